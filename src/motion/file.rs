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
//! Writers refuse NaN or infinite numbers ([`MotionFileError::NotFinite`]) and write whole lines
//! only; the reader validates every line (counts, finiteness, unit quaternions) and reports
//! 1-based line numbers. A file cut by a crash is read up to its last complete line: a last line
//! without a newline that is not a whole record is dropped and reported
//! ([`read_motion_report`]); a bad line anywhere else is an error.
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
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

/// Writes a motion file frame by frame. Lines are kept in memory and written whole, one `write`
/// of complete lines per [`MotionWriter::flush`] (or when 1 MiB is pending), so a file cut by a
/// crash between two flushes ends on a complete line.
pub struct MotionWriter {
    path: PathBuf,
    file: File,
    pending: Vec<u8>,
    /// Bytes written since the last `sync`.
    dirty: bool,
    frames: usize,
    contact_threshold: f32,
}

/// Pending bytes that trigger a write without a flush call.
const WRITE_AT: usize = 1 << 20;

impl MotionWriter {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path, header: &MotionHeader) -> Result<Self, MotionFileError> {
        Self::open(path, header, false)
    }

    /// Like [`MotionWriter::create`], but fails when `path` exists (recordings never overwrite).
    pub fn create_new(path: &Path, header: &MotionHeader) -> Result<Self, MotionFileError> {
        Self::open(path, header, true)
    }

    fn open(path: &Path, header: &MotionHeader, new: bool) -> Result<Self, MotionFileError> {
        let werr = |source| MotionFileError::Write { path: path.into(), source };
        if !(header.fps.is_finite() && header.fps > 0.0) {
            return Err(werr(std::io::Error::other(format!("fps must be positive, got {}", header.fps))));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(werr)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true);
        if new {
            options.create_new(true);
        } else {
            options.create(true).truncate(true);
        }
        let file = options.open(path).map_err(werr)?;
        let mut w =
            Self { path: path.into(), file, pending: Vec::new(), dirty: false, frames: 0, contact_threshold: DEFAULT_CONTACT_THRESHOLD };
        w.line(header)?;
        w.flush()?;
        Ok(w)
    }

    /// Contact scores above `threshold` are written as contacts (default 0.5).
    pub fn with_contact_threshold(mut self, threshold: f32) -> Self {
        self.contact_threshold = threshold;
        self
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames written so far (in the file or pending).
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Writes one frame; a frame with a non-finite number or a non-unit quaternion is an error.
    pub fn write(&mut self, frame: &MotionFrame) -> Result<(), MotionFileError> {
        if let Some(problem) = frame.problem() {
            return Err(MotionFileError::NotFinite { path: self.path.clone(), frame: frame.frame, problem });
        }
        self.line(&Record::new(frame, self.contact_threshold))?;
        self.frames += 1;
        if self.pending.len() >= WRITE_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending lines to the file, whole, in one `write_all`.
    pub fn flush(&mut self) -> Result<(), MotionFileError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.file.write_all(&self.pending).map_err(|source| MotionFileError::Write { path: self.path.clone(), source })?;
        self.pending.clear();
        self.dirty = true;
        Ok(())
    }

    /// [`MotionWriter::flush`], then `fsync` the data (survives a power cut, not only a crash).
    pub fn sync(&mut self) -> Result<(), MotionFileError> {
        self.flush()?;
        if self.dirty {
            self.file.sync_data().map_err(|source| MotionFileError::Write { path: self.path.clone(), source })?;
            self.dirty = false;
        }
        Ok(())
    }

    /// Flushes; returns the number of frames written.
    pub fn finish(mut self) -> Result<usize, MotionFileError> {
        self.flush()?;
        Ok(self.frames)
    }

    /// Serialises one line into the pending buffer (nothing of it on error).
    fn line<T: Serialize>(&mut self, value: &T) -> Result<(), MotionFileError> {
        let start = self.pending.len();
        if let Err(e) = serde_json::to_writer(&mut self.pending, value) {
            self.pending.truncate(start);
            return Err(MotionFileError::Write { path: self.path.clone(), source: e.into() });
        }
        self.pending.push(b'\n');
        Ok(())
    }
}

impl Drop for MotionWriter {
    /// Writes what is pending, like a `BufWriter` would (errors are lost: call `finish`).
    fn drop(&mut self) {
        let _ = self.flush();
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

/// The last line of a motion file, cut short (a crash while it was being written): dropped by
/// the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncation {
    /// Its 1-based line number.
    pub line: usize,
    /// Its bytes.
    pub bytes: usize,
}

/// A motion file as read by [`read_motion_report`].
#[derive(Debug, Clone)]
pub struct MotionRead {
    pub header: MotionHeader,
    pub frames: Vec<MotionFrame>,
    /// The cut last line that was dropped, if any.
    pub truncated: Option<Truncation>,
}

/// Reads a whole motion file, validating every line. A file cut by a crash (its last line has
/// no newline and is not a whole record) reads up to its last complete line, with a warning
/// ([`read_motion_report`] says what was dropped); a bad line anywhere else is an error naming it.
pub fn read_motion(path: &Path) -> Result<(MotionHeader, Vec<MotionFrame>), MotionFileError> {
    let r = read_motion_report(path)?;
    if let Some(t) = r.truncated {
        tracing::warn!(
            "{}: the last line ({}, {} bytes) was cut short (the writer crashed?): read the {} complete frames before it",
            path.display(),
            t.line,
            t.bytes,
            r.frames.len()
        );
    }
    Ok((r.header, r.frames))
}

/// [`read_motion`], saying whether a cut last line was dropped.
pub fn read_motion_report(path: &Path) -> Result<MotionRead, MotionFileError> {
    let open_err = |source| MotionFileError::Open { path: path.into(), source };
    let file = File::open(path).map_err(open_err)?;
    let mut reader = BufReader::new(file);
    let bad = |line: usize, problem: String| MotionFileError::Bad { path: path.into(), line, problem };
    // One line with whether it ended with a newline; `None` at the end of the file.
    let mut buf = Vec::new();
    let mut next = |buf: &mut Vec<u8>| -> Result<Option<bool>, MotionFileError> {
        buf.clear();
        match reader.read_until(b'\n', buf).map_err(open_err)? {
            0 => Ok(None),
            _ if buf.last() == Some(&b'\n') => {
                buf.pop();
                Ok(Some(true))
            }
            _ => Ok(Some(false)),
        }
    };
    let Some(complete) = next(&mut buf)? else { return Err(MotionFileError::Empty { path: path.into() }) };
    let header: MotionHeader = serde_json::from_slice(&buf).map_err(|e| {
        let cut = if complete { "" } else { " (cut short: the writer stopped before the header was complete)" };
        bad(1, format!("not a '{FORMAT}' header ({e}){cut}; was this file written by mocapd?"))
    })?;
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
    let mut truncated = None;
    let mut line = 1;
    while let Some(complete) = next(&mut buf)? {
        line += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let r: Record = match serde_json::from_slice(&buf) {
            Ok(r) => r,
            // The last line, without its newline, is a record cut short: drop it.
            Err(e) if !complete && e.is_eof() => {
                truncated = Some(Truncation { line, bytes: buf.len() });
                break;
            }
            Err(e) => return Err(bad(line, format!("not a frame record: {e}"))),
        };
        if let Some(p) = r.problem() {
            return Err(bad(line, p));
        }
        frames.push(r.frame());
    }
    Ok(MotionRead { header, frames, truncated })
}
