//! The `mocapd.motion/1` file: JSON Lines of SMPL-24 motion, written and read back.
//!
//! Line 1 is a header, then one line per frame:
//! ```text
//! {"format":"mocapd.motion/1","fps":30.0,"skeleton":"smpl24","joint_names":[...24],"parents":[...24]}
//! {"frame":N,"t":SECONDS,"root":[x,y,z],"rotations":[[x,y,z,w], ...24],"joints":[[x,y,z], ...24],"contacts":[la,lf,ra,rf]}
//! ```
//! - `rotations` are unit quaternions `(x, y, z, w)` local to the joint's parent (the root's is
//!   global), on the SMPL rest offsets of [`crate::skeleton::smpl`] (T-pose = identity);
//! - `root` and `joints` are world positions in metres, right-handed, Y up (`joints[0]` = `root`);
//! - `contacts` are booleans for left ankle, left foot, right ankle, right foot;
//! - optional `"contact_scores":[4 numbers]`: the model's raw contact outputs before the 0.5
//!   threshold;
//! - optional `"inferred":true`: the input had no performer in this frame; the pose was generated
//!   by the model from the surrounding frames alone. Absent (= false) otherwise.
//!
//! Writers refuse NaN or infinite numbers ([`MotionFileError::NotFinite`]); the reader validates
//! every line (counts, finiteness, unit quaternions) and reports 1-based line numbers.
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::frame::MotionFrame;
use crate::skeleton::rotation::{Quat, Vec3};
use crate::skeleton::smpl::{JOINT_NAMES, NUM_JOINTS, PARENTS};

/// The format tag on line 1.
pub const FORMAT: &str = "mocapd.motion/1";
/// The skeleton tag on line 1.
pub const SKELETON: &str = "smpl24";
/// Contact scores above this are written as contacts unless the writer is told otherwise.
pub const DEFAULT_CONTACT_THRESHOLD: f32 = 0.5;

/// Line 1 of a motion file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotionHeader {
    pub format: String,
    pub fps: f64,
    pub skeleton: String,
    pub joint_names: Vec<String>,
    pub parents: Vec<i32>,
}

impl MotionHeader {
    /// The SMPL-24 header at `fps`.
    pub fn smpl24(fps: f64) -> Self {
        Self {
            format: FORMAT.into(),
            fps,
            skeleton: SKELETON.into(),
            joint_names: JOINT_NAMES.iter().map(|s| s.to_string()).collect(),
            parents: PARENTS.to_vec(),
        }
    }
}

/// One frame line as it is in the file: a [`MotionFrame`] plus its forward-kinematics joint
/// positions and thresholded contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    frame: u64,
    t: f64,
    root: Vec3,
    rotations: [Quat; NUM_JOINTS],
    joints: [Vec3; NUM_JOINTS],
    contacts: [bool; 4],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contact_scores: Option<[f32; 4]>,
    #[serde(default, skip_serializing_if = "is_false")]
    inferred: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Record {
    fn new(f: &MotionFrame, contact_threshold: f32) -> Self {
        Record {
            frame: f.frame,
            t: f.t,
            root: f.root,
            rotations: f.rotations,
            joints: f.joints(),
            contacts: f.contact_flags(contact_threshold),
            contact_scores: Some(f.contacts),
            inferred: f.inferred,
        }
    }

    /// The frame; without `contact_scores` the contacts are 1 or 0.
    fn frame(&self) -> MotionFrame {
        MotionFrame {
            frame: self.frame,
            t: self.t,
            root: self.root,
            rotations: self.rotations,
            contacts: self.contact_scores.unwrap_or(self.contacts.map(|c| if c { 1.0 } else { 0.0 })),
            inferred: self.inferred,
        }
    }

    fn problem(&self) -> Option<String> {
        if let Some(j) = self.joints.iter().position(|p| p.iter().any(|v| !v.is_finite())) {
            return Some(format!("position of joint {j} ({}) is not finite", JOINT_NAMES[j]));
        }
        self.frame().problem()
    }
}

/// What can go wrong reading or writing a motion file. Line numbers count from 1.
#[derive(Debug, thiserror::Error)]
pub enum MotionFileError {
    #[error("cannot open motion file '{path}': {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("cannot write motion file '{path}': {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("motion file '{path}' is empty: expected a '{FORMAT}' header on line 1")]
    Empty { path: PathBuf },
    #[error("{path}:{line}: {problem}")]
    Bad { path: PathBuf, line: usize, problem: String },
    #[error("refusing to write frame {frame} to '{path}': {problem}")]
    NotFinite { path: PathBuf, frame: u64, problem: String },
}

/// Writes a motion file frame by frame.
pub struct MotionWriter {
    path: PathBuf,
    out: BufWriter<File>,
    frames: usize,
    contact_threshold: f32,
}

impl MotionWriter {
    pub fn create(path: &Path, header: &MotionHeader) -> Result<Self, MotionFileError> {
        let werr = |source| MotionFileError::Write { path: path.into(), source };
        if !(header.fps.is_finite() && header.fps > 0.0) {
            return Err(werr(std::io::Error::other(format!("fps must be positive, got {}", header.fps))));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(werr)?;
        }
        let file = File::create(path).map_err(werr)?;
        let mut w = Self { path: path.into(), out: BufWriter::new(file), frames: 0, contact_threshold: DEFAULT_CONTACT_THRESHOLD };
        w.line(header)?;
        Ok(w)
    }

    /// Contact scores above `threshold` are written as contacts (default 0.5).
    pub fn with_contact_threshold(mut self, threshold: f32) -> Self {
        self.contact_threshold = threshold;
        self
    }

    /// Writes one frame; a frame with a non-finite number or a non-unit quaternion is an error.
    pub fn write(&mut self, frame: &MotionFrame) -> Result<(), MotionFileError> {
        if let Some(problem) = frame.problem() {
            return Err(MotionFileError::NotFinite { path: self.path.clone(), frame: frame.frame, problem });
        }
        self.frames += 1;
        self.line(&Record::new(frame, self.contact_threshold))
    }

    /// Pushes buffered lines to the file.
    pub fn flush(&mut self) -> Result<(), MotionFileError> {
        self.out.flush().map_err(|source| MotionFileError::Write { path: self.path.clone(), source })
    }

    /// Flushes; returns the number of frames written.
    pub fn finish(mut self) -> Result<usize, MotionFileError> {
        self.out.flush().map_err(|source| MotionFileError::Write { path: self.path.clone(), source })?;
        Ok(self.frames)
    }

    fn line<T: Serialize>(&mut self, value: &T) -> Result<(), MotionFileError> {
        let io = |source| MotionFileError::Write { path: self.path.clone(), source };
        serde_json::to_writer(&mut self.out, value).map_err(|e| io(e.into()))?;
        self.out.write_all(b"\n").map_err(io)
    }
}

/// Writes a whole motion file; contact scores above `contact_threshold` are contacts.
pub fn write_motion(path: &Path, header: &MotionHeader, frames: &[MotionFrame], contact_threshold: f32) -> Result<(), MotionFileError> {
    let mut w = MotionWriter::create(path, header)?.with_contact_threshold(contact_threshold);
    for f in frames {
        w.write(f)?;
    }
    w.finish().map(|_| ())
}

/// Reads a whole motion file, validating every line.
pub fn read_motion(path: &Path) -> Result<(MotionHeader, Vec<MotionFrame>), MotionFileError> {
    let file = File::open(path).map_err(|source| MotionFileError::Open { path: path.into(), source })?;
    let mut lines = BufReader::new(file).lines();
    let bad = |line: usize, problem: String| MotionFileError::Bad { path: path.into(), line, problem };
    let first = match lines.next() {
        None => return Err(MotionFileError::Empty { path: path.into() }),
        Some(l) => l.map_err(|source| MotionFileError::Open { path: path.into(), source })?,
    };
    let header: MotionHeader = serde_json::from_str(&first)
        .map_err(|e| bad(1, format!("not a '{FORMAT}' header ({e}); was this file written by `mocapd lift`?")))?;
    if header.format != FORMAT {
        return Err(bad(1, format!("format is '{}', expected '{FORMAT}'", header.format)));
    }
    if header.skeleton != SKELETON {
        return Err(bad(1, format!("skeleton is '{}', only '{SKELETON}' is supported", header.skeleton)));
    }
    if !(header.fps.is_finite() && header.fps > 0.0) {
        return Err(bad(1, format!("fps must be a positive number, got {}", header.fps)));
    }
    if header.joint_names.len() != NUM_JOINTS || header.parents != PARENTS {
        return Err(bad(1, format!("joint_names/parents are not the {NUM_JOINTS} SMPL joints")));
    }
    let mut frames = Vec::new();
    for (i, l) in lines.enumerate() {
        let line = i + 2;
        let text = l.map_err(|source| MotionFileError::Open { path: path.into(), source })?;
        if text.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(&text).map_err(|e| bad(line, format!("not a frame record: {e}")))?;
        if let Some(p) = r.problem() {
            return Err(bad(line, p));
        }
        frames.push(r.frame());
    }
    Ok((header, frames))
}
