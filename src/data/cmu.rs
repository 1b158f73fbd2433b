//! BVH folders given to `data build` (`--bvh-dir`, [`super::build::BuildOptions::bvh_dirs`]),
//! such as the mocapd CMU corpus (CMU Graphics Lab Motion Capture Database, 30 fps BVH in four
//! skeleton kinds, with a `MANIFEST.tsv`), and the held-out CMU subjects of the split.
//!
//! A folder with a `MANIFEST.tsv` (tab-separated, a header line naming the columns; `path` is
//! required, relative to the folder) lists its takes: the `skeleton` column picks the rig
//! ([`super::rigs::rig`], e.g. `cmu_cgspeed_daz`, `cmu_cgspeed_mb` = [`super::rigs::CMU`]), and
//! `subject`, `trial`, `category`, `description` and `licence` are kept as take metadata. When the
//! manifest has a `lead_frames_dropped` column the files are already trimmed (no calibration
//! T-pose), so no rig skips leading frames. Files the manifest does not list are ignored. A
//! folder without a manifest is searched recursively for `.bvh` files (sorted by path), whose rig
//! is detected from joint names ([`super::sources::detect_rig`]); they have no subject.
//!
//! The folder is read where it is, never copied; nothing in the build or the tests needs it to
//! exist (tests that use the corpus look for it through `MOCAPD_MOCAP_DIR` or beside the clone
//! and skip when it is absent).
//!
//! # The split by subject
//! Validation and test are whole CMU subjects that training never sees ([`VAL_SUBJECTS`],
//! [`TEST_SUBJECTS`]), each about 10 % of the corpus's minutes, over several categories and both
//! the Daz-friendly and the DeepMimic skeletons; the salsa partners 60 and 61 (the same sessions)
//! stay together in training. In the mocapd corpus (245 takes, 45.1 min), after the 10 takes the
//! retarget checks reject (flips in subjects 5, 94 and 131), 43.2 min:
//!
//! | split | CMU subjects | minutes | categories (minutes) |
//! |---|---|---|---|
//! | val | 2, 8, 43, 94 | 4.24 (9.8 %) | dance 1.73 (Indian), fighting 0.92, everyday 0.68, locomotion 0.60, climb_ladder 0.24, jump 0.07 |
//! | test | 5, 6, 9, 12, 88, 90, 140 | 4.29 (9.9 %) | dance 1.55 (modern), sports 1.13 (basketball), locomotion 0.85, sit_lie 0.39, acrobatics 0.27, fighting 0.10 |
//! | train | the other 16 | 34.70 | dance 16.02 (salsa), climb_ladder 5.30, everyday 4.12, fighting 2.59, jump 2.06, locomotion 1.88, acrobatics 1.19, sit_lie 1.09, sports 0.46 |
//!
//! Takes without a subject (other folders, fetched registry data, procedural motion) are split by
//! take as before and never go to test. A fetched `cmu` file (`01_01`, `01_03`) that a folder
//! also has is left out; when a folder has CMU subjects, the fetched CMU files follow the subject
//! split too.

use std::path::{Path, PathBuf};

use super::error::{io, DataError};

/// The manifest file name of a BVH folder.
pub const MANIFEST_FILE: &str = "MANIFEST.tsv";

/// CMU subjects held out for validation (see the module docs).
pub const VAL_SUBJECTS: [u32; 4] = [2, 8, 43, 94];
/// CMU subjects held out for the test split (see the module docs).
pub const TEST_SUBJECTS: [u32; 7] = [5, 6, 9, 12, 88, 90, 140];

/// Where a CMU subject's takes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldOut {
    Train,
    Val,
    Test,
}

/// The split of a CMU subject: [`VAL_SUBJECTS`], [`TEST_SUBJECTS`], otherwise training.
pub fn subject_split(subject: u32) -> HeldOut {
    if VAL_SUBJECTS.contains(&subject) {
        HeldOut::Val
    } else if TEST_SUBJECTS.contains(&subject) {
        HeldOut::Test
    } else {
        HeldOut::Train
    }
}

/// CMU subject and trial from a CMU-style file stem `SS_TT` (`01_01`, `135_03`).
pub fn subject_trial_from_stem(stem: &str) -> Option<(u32, u32)> {
    let (s, t) = stem.split_once('_')?;
    let digits = |x: &str| !x.is_empty() && x.len() <= 3 && x.bytes().all(|b| b.is_ascii_digit());
    (digits(s) && digits(t)).then(|| Some((s.parse().ok()?, t.parse().ok()?))).flatten()
}

/// One BVH file of a folder.
#[derive(Debug, Clone, PartialEq)]
pub struct BvhEntry {
    pub path: PathBuf,
    /// The path relative to the folder, with `/` separators.
    pub rel: String,
    /// Rig name from the manifest's `skeleton` column (`None`: detect from joint names).
    pub skeleton: Option<String>,
    /// The manifest says the leading calibration frames are dropped already.
    pub trimmed: bool,
    pub subject: Option<u32>,
    pub trial: Option<u32>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub licence: Option<String>,
    /// Minutes at 30 fps, as the manifest says.
    pub minutes: Option<f32>,
}

/// Every BVH file of `dir`: from its `MANIFEST.tsv` when it has one, otherwise every `.bvh`
/// below it (sorted). Errors: the folder cannot be read, the manifest is malformed.
pub fn list_dir(dir: &Path) -> Result<Vec<BvhEntry>, DataError> {
    if !dir.is_dir() {
        return Err(io(dir)(std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder (--bvh-dir)")));
    }
    let manifest = dir.join(MANIFEST_FILE);
    if manifest.is_file() {
        let text = std::fs::read_to_string(&manifest).map_err(io(&manifest))?;
        return parse_manifest(dir, &text).map_err(|reason| DataError::BadDataset { path: manifest, reason });
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| {
            let rel =
                path.strip_prefix(dir).unwrap_or(&path).components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            BvhEntry {
                path,
                rel,
                skeleton: None,
                trimmed: false,
                subject: None,
                trial: None,
                category: None,
                description: None,
                licence: None,
                minutes: None,
            }
        })
        .collect())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = e.map_err(io(dir))?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|x| x.eq_ignore_ascii_case("bvh")) {
            out.push(path);
        }
    }
    Ok(())
}

/// Parse a `MANIFEST.tsv` of `dir` (see the module docs). `Err` says what is wrong and where.
pub fn parse_manifest(dir: &Path, text: &str) -> Result<Vec<BvhEntry>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("empty manifest")?;
    let cols: Vec<&str> = header.split('\t').map(str::trim).collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    let path_col = col("path").ok_or("no `path` column in the header line")?;
    let (skel, subj, trial, cat, desc, lic) =
        (col("skeleton"), col("subject"), col("trial"), col("category"), col("description"), col("licence"));
    let mins = col("minutes");
    let trimmed = col("lead_frames_dropped").is_some();
    let mut out = Vec::new();
    for (i, line) in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |c: Option<usize>| c.and_then(|c| f.get(c)).map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
        let rel = get(Some(path_col)).ok_or_else(|| format!("line {}: no path", i + 1))?;
        let number = |c: Option<usize>, what: &str| -> Result<Option<u32>, String> {
            get(c).map(|s| s.parse::<u32>().map_err(|_| format!("line {}: {what} `{s}` is not a whole number", i + 1))).transpose()
        };
        out.push(BvhEntry {
            path: dir.join(&rel),
            skeleton: get(skel),
            trimmed,
            subject: number(subj, "subject")?,
            trial: number(trial, "trial")?,
            category: get(cat),
            description: get(desc),
            licence: get(lic),
            minutes: get(mins)
                .map(|s| s.parse::<f32>().map_err(|_| format!("line {}: minutes `{s}` is not a number", i + 1)))
                .transpose()?,
            rel,
        });
    }
    Ok(out)
}
