//! Takes: the files one run records, named so that no run ever overwrites another's.
//!
//! The `[record]` paths are a pattern. `{time}` in a path becomes the local start time
//! (`YYYYMMDD-HHMMSS`, the same for every file of the take). The take is the set of configured
//! files plus, for each, its name with every recording extension (`.bvh`, `.vrma`, `.jsonl`):
//! when any of them exists (a previous run's take, or a `mocapd recover` output), the run takes
//! the next free counter, `name-002.bvh`, `name-003.bvh`, …, applied to every file of the take so
//! they keep one name. Recorders then create their files with `create_new` (O_EXCL), so even a
//! race with another process cannot truncate a file; [`Take::open`] retries on the next counter.
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::SinkError;

/// Replaced by the take's local start time in a `[record]` path.
pub const TIME_PLACEHOLDER: &str = "{time}";
/// The extensions of a take's recordings; a file with the take's name and any of them is part
/// of the take.
pub const TAKE_EXTENSIONS: [&str; 3] = ["bvh", "vrma", "jsonl"];
/// Counters tried before giving up (a folder with 10,000 takes of one name is a mistake).
const MAX_COUNTER: u32 = 9999;

/// The files of one take; a recording is off when its path is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Take {
    pub bvh: Option<PathBuf>,
    pub vrma: Option<PathBuf>,
    pub motion: Option<PathBuf>,
}

impl Take {
    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.files().next().is_none()
    }

    /// The configured files.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        [&self.motion, &self.bvh, &self.vrma].into_iter().flatten().map(PathBuf::as_path)
    }

    /// Every path with `{time}` replaced by `stamp`.
    pub fn with_time(&self, stamp: &str) -> Take {
        let f = |p: &Option<PathBuf>| p.as_ref().map(|p| PathBuf::from(p.to_string_lossy().replace(TIME_PLACEHOLDER, stamp)));
        Take { bvh: f(&self.bvh), vrma: f(&self.vrma), motion: f(&self.motion) }
    }

    /// The take with counter `n`: 1 is the configured name, `n` ≥ 2 appends `-00n` to every
    /// file's stem (`take.bvh` → `take-002.bvh`).
    pub fn numbered(&self, n: u32) -> Take {
        let f = |p: &Option<PathBuf>| p.as_ref().map(|p| numbered(p, n));
        Take { bvh: f(&self.bvh), vrma: f(&self.vrma), motion: f(&self.motion) }
    }

    /// The files of this take that already exist: each configured file, and its name with
    /// every [`TAKE_EXTENSIONS`] extension.
    pub fn existing(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for p in self.files() {
            for c in std::iter::once(p.to_path_buf()).chain(TAKE_EXTENSIONS.iter().map(|e| p.with_extension(e))) {
                if std::fs::symlink_metadata(&c).is_ok() && !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// The first take, from counter `from` on, none of whose files exists; with its counter.
    pub fn next_free(&self, from: u32) -> Result<(Take, u32), SinkError> {
        for n in from.max(1)..=MAX_COUNTER {
            let t = self.numbered(n);
            if t.existing().is_empty() {
                return Ok((t, n));
            }
        }
        let name = self.files().next().map(Path::to_path_buf).unwrap_or_default();
        Err(SinkError::Io {
            path: name,
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("takes 1 to {MAX_COUNTER} of this name all exist")),
        })
    }

    /// Resolves the configured pattern (`{time}` at `now`, then the first free counter), creates
    /// the folders and opens the take with `open`, which creates each file with `create_new`.
    /// When `open` finds a file already there (another process took the name meanwhile), the
    /// next counter is tried. Returns what `open` built and the take it wrote.
    pub fn open<T>(&self, now: SystemTime, mut open: impl FnMut(&Take) -> Result<T, SinkError>) -> Result<(T, Take), SinkError> {
        let pattern = self.with_time(&local_timestamp(now));
        for p in pattern.files() {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| SinkError::Io { path: dir.into(), source })?;
            }
        }
        let mut from = 1;
        loop {
            let (take, n) = pattern.next_free(from)?;
            match open(&take) {
                Err(SinkError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists && n < MAX_COUNTER => {
                    from = n + 1;
                }
                r => return r.map(|t| (t, take)),
            }
        }
    }
}

/// `dir/name.ext` → `dir/name-00n.ext` (`n` ≥ 2; 1 leaves the path as it is).
fn numbered(p: &Path, n: u32) -> PathBuf {
    if n <= 1 {
        return p.to_path_buf();
    }
    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match p.extension() {
        Some(e) => format!("{stem}-{n:03}.{}", e.to_string_lossy()),
        None => format!("{stem}-{n:03}"),
    };
    p.with_file_name(name)
}

/// `t` as local time, `YYYYMMDD-HHMMSS` (UTC when the time zone is unknown).
pub fn local_timestamp(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as libc::time_t;
    // SAFETY: `localtime_r` only writes the `tm` it is given; a zeroed `tm` is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let local = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    // SAFETY: as above, for `gmtime_r`.
    if !local && unsafe { libc::gmtime_r(&secs, &mut tm).is_null() } {
        return format!("{secs}");
    }
    format!("{:04}{:02}{:02}-{:02}{:02}{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
}

/// Creates `path` for writing, failing when it exists (never truncates a recording).
pub(crate) fn create_new(path: &Path) -> Result<std::fs::File, SinkError> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|source| SinkError::Io { path: path.to_path_buf(), source })
}

/// Moves `tmp` to `path` unless `path` exists (then `tmp` stays, and the error says so).
pub(crate) fn publish(tmp: &Path, path: &Path) -> Result<(), SinkError> {
    if std::fs::symlink_metadata(path).is_ok() {
        let e = std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("it appeared while recording; this take's file is kept as {}", tmp.display()),
        );
        return Err(SinkError::Io { path: path.to_path_buf(), source: e });
    }
    std::fs::rename(tmp, path).map_err(|source| SinkError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(dir: &Path, name: &str) -> Take {
        Take {
            bvh: Some(dir.join(format!("{name}.bvh"))),
            vrma: Some(dir.join(format!("{name}.vrma"))),
            motion: Some(dir.join(format!("{name}.jsonl"))),
        }
    }

    #[test]
    fn counter_applies_to_every_file_and_skips_any_existing_one() {
        let dir = tempfile::tempdir().unwrap();
        let t = take(dir.path(), "take");
        assert_eq!(t.next_free(1).unwrap(), (t.clone(), 1));
        // Only a .vrma of the take exists (the BVH/JSONL were removed): still taken.
        std::fs::write(dir.path().join("take.vrma"), b"x").unwrap();
        let (next, n) = t.next_free(1).unwrap();
        assert_eq!((next, n), (take(dir.path(), "take-002"), 2));
        // A sibling with another take extension counts even when that recording is off.
        std::fs::write(dir.path().join("take-002.jsonl"), b"x").unwrap();
        let only_bvh = Take { bvh: t.bvh.clone(), ..Take::default() };
        assert_eq!(only_bvh.next_free(1).unwrap().1, 3);
        assert_eq!(numbered(Path::new("a/b"), 12), PathBuf::from("a/b-012"));
    }

    #[test]
    fn time_placeholder_is_one_stamp_for_the_take() {
        let t = take(Path::new("rec"), "take-{time}").with_time(&local_timestamp(SystemTime::UNIX_EPOCH));
        let names: Vec<String> = t.files().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
        assert!(names.iter().all(|n| n == &names[0]) && names[0].len() == "take-19700101-000000".len(), "{names:?}");
        assert!(!names[0].contains('{'));
    }

    #[test]
    fn open_retries_on_a_file_created_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let t = take(&dir.path().join("sub"), "take");
        let mut tries = 0;
        let (_, got) = t
            .open(SystemTime::now(), |take| {
                tries += 1;
                let p = take.bvh.as_ref().unwrap();
                if tries == 1 {
                    std::fs::write(p, b"someone else").unwrap();
                }
                create_new(p).map(|_| ())
            })
            .unwrap();
        assert_eq!(got, take(&dir.path().join("sub"), "take-002"));
        assert_eq!(std::fs::read(dir.path().join("sub/take.bvh")).unwrap(), b"someone else");
    }
}
