//! `mocapd recover`: rebuilds a take's recordings from its `mocapd.motion/1` file, the take's
//! crash-safe copy (whole lines, flushed every 0.5 s). After `kill -9` or a power cut the `.vrma`
//! (written only when a recording ends) is missing and the BVH may hold a little less than the
//! motion file; this writes the `.vrma` when it is missing, and the BVH when it is missing or
//! shorter. A BVH is only extended when its frames are the motion file's first frames (the same
//! take); anything else is left alone. Files appear whole (written aside, then renamed). A take
//! recorded without a motion file gets its `.vrma` from the BVH (to the BVH's last flush).
use std::path::{Path, PathBuf};

use super::bvh::BvhRecorder;
use super::take::TAKE_EXTENSIONS;
use super::vrma::VrmaRecorder;
use super::{glb, Sink, SinkError};
use crate::bvh::{write::write_order, Bvh};
use crate::motion::bvh::{frame_values, skeleton, units_of, Units};
use crate::motion::{read_motion_report, MotionFrame, Truncation};

/// How to write files the take does not have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoverOptions {
    /// Units of a BVH written from scratch (an existing BVH keeps its own).
    pub units: Units,
    /// Animate upperChest in the `.vrma` (`sink.vmc.upper_chest`, as the recorder does).
    pub upper_chest: bool,
}

/// What happened to one file of the take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written from the motion file.
    Written { frames: usize },
    /// It held fewer frames: rewritten with all of the motion file's.
    Extended { from: usize, to: usize },
    /// Left as it was.
    Kept { why: String },
}

/// One file of the take and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOutcome {
    pub path: PathBuf,
    pub outcome: Outcome,
}

/// What [`recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoverReport {
    /// The file read: the motion file, or the BVH of a take recorded without one.
    pub motion: PathBuf,
    /// Its complete frames.
    pub frames: usize,
    /// Its cut last line, dropped.
    pub truncated: Option<Truncation>,
    pub vrma: FileOutcome,
    pub bvh: FileOutcome,
}

impl RecoverReport {
    /// One line per file.
    pub fn text(&self) -> String {
        let cut = self.truncated.map_or(String::new(), |t| format!("; its cut last line {} ({} bytes) dropped", t.line, t.bytes));
        let mut s = format!("{}: {} frames{cut}\n", self.motion.display(), self.frames);
        for f in [&self.vrma, &self.bvh] {
            let what = match &f.outcome {
                Outcome::Written { frames } => format!("written, {frames} frames"),
                Outcome::Extended { from, to } => format!("extended from {from} to {to} frames"),
                Outcome::Kept { why } => format!("kept: {why}"),
            };
            s += &format!("{}: {what}\n", f.path.display());
        }
        s
    }
}

/// The motion file of `take`: `take` itself when it ends in `.jsonl`, the `.jsonl` beside a
/// `.bvh` or `.vrma`, else `take` + `.jsonl` (a take's name without extension).
pub fn motion_file(take: &Path) -> PathBuf {
    match take.extension().and_then(|e| e.to_str()) {
        Some(e) if TAKE_EXTENSIONS.contains(&e) => take.with_extension("jsonl"),
        _ => {
            let mut s = take.as_os_str().to_owned();
            s.push(".jsonl");
            s.into()
        }
    }
}

/// Rebuilds the `.vrma` and BVH of `take` (see the module doc) from its motion file. A take
/// recorded without a motion file has its `.vrma` rebuilt from its BVH instead.
pub fn recover(take: &Path, o: &RecoverOptions) -> Result<RecoverReport, SinkError> {
    let motion = motion_file(take);
    let (vrma, bvh) = (motion.with_extension("vrma"), motion.with_extension("bvh"));
    if !exists(&motion) && exists(&bvh) {
        return from_bvh(vrma, bvh, o);
    }
    let read = read_motion_report(&motion)?;
    let fps = read.header.fps;
    let frames = read.frames;
    let (vrma, bvh) = if frames.is_empty() {
        let kept = |path: PathBuf| FileOutcome { path, outcome: Outcome::Kept { why: "the motion file holds no frame".into() } };
        (kept(vrma), kept(bvh))
    } else {
        (recover_vrma(vrma, &frames, fps, o)?, recover_bvh(bvh, &frames, fps, o)?)
    };
    Ok(RecoverReport { motion, frames: frames.len(), truncated: read.truncated, vrma, bvh })
}

/// No motion file: the `.vrma` from the BVH (mocapd's SMPL-24 skeleton), the BVH kept.
fn from_bvh(vrma: PathBuf, bvh: PathBuf, o: &RecoverOptions) -> Result<RecoverReport, SinkError> {
    let bad = |why: String| SinkError::Io { path: bvh.clone(), source: std::io::Error::new(std::io::ErrorKind::InvalidData, why) };
    let file = Bvh::read(&bvh).map_err(|e| bad(format!("no motion file beside it, and it does not read as BVH: {e}")))?;
    let clip = crate::motion::bvh::to_clip(&file)
        .ok_or_else(|| bad("no motion file beside it, and it is not mocapd's SMPL-24 skeleton".into()))?;
    let frames: Vec<MotionFrame> = (0..clip.len()).filter_map(|i| clip.frame(i)).collect();
    let vrma = if frames.is_empty() {
        FileOutcome { path: vrma, outcome: Outcome::Kept { why: "the BVH holds no frame".into() } }
    } else {
        recover_vrma(vrma, &frames, file.fps(), o)?
    };
    let kept = FileOutcome { path: bvh.clone(), outcome: Outcome::Kept { why: "it is the source (no motion file)".into() } };
    Ok(RecoverReport { motion: bvh, frames: frames.len(), truncated: None, vrma, bvh: kept })
}

fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

/// `path` + `.partial`, removed first when a crashed recovery left it.
fn aside(path: &Path) -> Result<PathBuf, SinkError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    if exists(&tmp) {
        std::fs::remove_file(&tmp).map_err(|source| SinkError::Io { path: tmp.clone(), source })?;
    }
    Ok(tmp)
}

fn recover_vrma(path: PathBuf, frames: &[MotionFrame], fps: f64, o: &RecoverOptions) -> Result<FileOutcome, SinkError> {
    if exists(&path) {
        // A .vrma appears whole (renamed into place), so one that exists is the finished take's.
        let why = match std::fs::read(&path).map_err(|e| e.to_string()).and_then(|b| glb::decode(&b)) {
            Ok(_) => "it exists (a .vrma is only ever written whole)".to_string(),
            Err(e) => format!("it exists but does not parse ({e}); move it away and run `mocapd recover` again"),
        };
        return Ok(FileOutcome { path, outcome: Outcome::Kept { why } });
    }
    let mut rec = VrmaRecorder::new(&path, fps as f32, o.upper_chest);
    for f in frames {
        rec.send(f)?;
    }
    rec.finish()?;
    Ok(FileOutcome { path, outcome: Outcome::Written { frames: frames.len() } })
}

fn recover_bvh(path: PathBuf, frames: &[MotionFrame], fps: f64, o: &RecoverOptions) -> Result<FileOutcome, SinkError> {
    let kept = |path: PathBuf, why: String| Ok(FileOutcome { path, outcome: Outcome::Kept { why } });
    let (units, from) = if exists(&path) {
        let old = match Bvh::read(&path) {
            Ok(b) => b,
            Err(e) => return kept(path, format!("it does not read as BVH ({e})")),
        };
        let Some(units) = units_of(&old) else { return kept(path, "it is not mocapd's SMPL-24 skeleton".into()) };
        let n = old.frames.len();
        if n >= frames.len() {
            return kept(path, format!("it holds {n} frames already"));
        }
        if !same_frames(&old, frames, units) {
            return kept(path, format!("its {n} frames are not the motion file's first frames (another take?)"));
        }
        (units, Some(n))
    } else {
        (o.units, None)
    };
    let tmp = aside(&path)?;
    let mut rec = BvhRecorder::create(&tmp, units, fps as f32)?;
    for f in frames {
        rec.send(f)?;
    }
    rec.finish()?;
    drop(rec);
    match from {
        // Replaces the shorter file with one holding the same frames and the rest.
        Some(n) => {
            std::fs::rename(&tmp, &path).map_err(|source| SinkError::Io { path: path.clone(), source })?;
            Ok(FileOutcome { path, outcome: Outcome::Extended { from: n, to: frames.len() } })
        }
        None => {
            super::take::publish(&tmp, &path)?;
            Ok(FileOutcome { path, outcome: Outcome::Written { frames: frames.len() } })
        }
    }
}

/// Whether every frame of `bvh` (a file mocapd wrote) is the motion frame of the same index.
fn same_frames(bvh: &Bvh, frames: &[MotionFrame], units: Units) -> bool {
    // The rows are in the file's channel order: the one the recorder wrote them in.
    let order = write_order(&skeleton(units, 30.0));
    bvh.frames.iter().zip(frames).all(|(row, f)| {
        let want = frame_values(&f.sanitized().0, &order, units);
        row.len() == want.len() && row.iter().zip(&want).all(|(a, b)| (a - b).abs() <= 1e-3 * (1.0 + b.abs()))
    })
}
