//! BVH motion files: the data model, a reader for any channel order (3- and 6-channel joints,
//! End Sites, CRLF, tabs) and per-frame local poses. Parsing lives in `parse.rs`, writing in [`mod@write`].

mod parse;
pub mod write;

pub use write::BvhWriteError;

use std::path::{Path, PathBuf};

use crate::skeleton::rotation::{axis_angle_to_quat, quat_mul, Quat, Vec3, QUAT_IDENTITY};

/// Why a BVH file could not be read. Line numbers are 1-based.
#[derive(Debug, thiserror::Error)]
pub enum BvhError {
    #[error("cannot read BVH file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("truncated BVH: expected {expected} at line {line}, found end of file")]
    Truncated { line: usize, expected: String },
    #[error("truncated BVH: header says {declared} frames, the file has {found} (ends at line {line})")]
    MissingFrames { line: usize, declared: usize, found: usize },
    #[error("unknown keyword `{keyword}` at line {line}")]
    UnknownKeyword { line: usize, keyword: String },
    #[error("expected {expected} at line {line}, found `{found}`")]
    Unexpected { line: usize, expected: String, found: String },
    #[error("not a number: `{token}` at line {line}")]
    BadNumber { line: usize, token: String },
    #[error("NaN or infinite value `{token}` at line {line}")]
    NotFinite { line: usize, token: String },
    #[error("unknown channel `{name}` at line {line}")]
    BadChannel { line: usize, name: String },
    #[error("frame line {line} has {found} channel values, the hierarchy declares {expected}")]
    ChannelCount { line: usize, expected: usize, found: usize },
    #[error("BVH has no joints")]
    NoJoints,
}

/// One animation channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Xposition,
    Yposition,
    Zposition,
    Xrotation,
    Yrotation,
    Zrotation,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Xposition => "Xposition",
            Channel::Yposition => "Yposition",
            Channel::Zposition => "Zposition",
            Channel::Xrotation => "Xrotation",
            Channel::Yrotation => "Yrotation",
            Channel::Zrotation => "Zrotation",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        Some(match s.to_ascii_lowercase().as_str() {
            "xposition" => Channel::Xposition,
            "yposition" => Channel::Yposition,
            "zposition" => Channel::Zposition,
            "xrotation" => Channel::Xrotation,
            "yrotation" => Channel::Yrotation,
            "zrotation" => Channel::Zrotation,
            _ => return None,
        })
    }
    /// Axis index 0..3.
    pub fn axis(self) -> usize {
        match self {
            Channel::Xposition | Channel::Xrotation => 0,
            Channel::Yposition | Channel::Yrotation => 1,
            Channel::Zposition | Channel::Zrotation => 2,
        }
    }
    pub fn is_rotation(self) -> bool {
        matches!(self, Channel::Xrotation | Channel::Yrotation | Channel::Zrotation)
    }
}

/// One joint. Joints are stored in file (depth-first) order, so `parent < index`.
#[derive(Debug, Clone, PartialEq)]
pub struct Joint {
    pub name: String,
    pub parent: Option<usize>,
    pub offset: Vec3,
    pub channels: Vec<Channel>,
    /// The End Site offset, when the joint has one.
    pub end_site: Option<Vec3>,
}

/// A BVH file: hierarchy plus motion (one row of channel values per frame).
#[derive(Debug, Clone, PartialEq)]
pub struct Bvh {
    pub joints: Vec<Joint>,
    pub frame_time: f64,
    pub frames: Vec<Vec<f32>>,
}

impl Bvh {
    /// Read a BVH file from disk.
    pub fn read(path: &Path) -> Result<Bvh, BvhError> {
        let text = std::fs::read_to_string(path).map_err(|source| BvhError::Io { path: path.to_path_buf(), source })?;
        Bvh::parse(&text)
    }

    /// Parse BVH text.
    pub fn parse(text: &str) -> Result<Bvh, BvhError> {
        parse::parse(text)
    }

    /// Total number of channels (values per frame line).
    pub fn num_channels(&self) -> usize {
        self.joints.iter().map(|j| j.channels.len()).sum()
    }

    /// Frames per second.
    pub fn fps(&self) -> f64 {
        if self.frame_time > 0.0 {
            1.0 / self.frame_time
        } else {
            0.0
        }
    }

    /// Joint index by name.
    pub fn joint_index(&self, name: &str) -> Option<usize> {
        self.joints.iter().position(|j| j.name == name)
    }

    /// Parents as `Option<usize>`.
    pub fn parents(&self) -> Vec<Option<usize>> {
        self.joints.iter().map(|j| j.parent).collect()
    }

    /// Local translations and rotations of every joint at `frame` (`None` past the end).
    /// Position channels replace the matching OFFSET component; rotation channels compose in
    /// the listed order (`Zrotation Xrotation Yrotation` means `Rz * Rx * Ry`), in degrees.
    pub fn local_pose(&self, frame: usize) -> Option<(Vec<Vec3>, Vec<Quat>)> {
        let values = self.frames.get(frame)?;
        let mut translations = Vec::with_capacity(self.joints.len());
        let mut rotations = Vec::with_capacity(self.joints.len());
        let mut k = 0;
        for joint in &self.joints {
            let mut t = joint.offset;
            let mut q = QUAT_IDENTITY;
            for ch in &joint.channels {
                let v = *values.get(k)?;
                k += 1;
                if ch.is_rotation() {
                    let mut aa = [0.0; 3];
                    aa[ch.axis()] = v.to_radians();
                    q = quat_mul(q, axis_angle_to_quat(aa));
                } else {
                    t[ch.axis()] = v;
                }
            }
            translations.push(t);
            rotations.push(q);
        }
        Some((translations, rotations))
    }

    /// Rest translations (the OFFSETs).
    pub fn rest_offsets(&self) -> Vec<Vec3> {
        self.joints.iter().map(|j| j.offset).collect()
    }
}
