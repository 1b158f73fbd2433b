//! The built data set's `manifest.json` ([`Manifest`]: takes, sources, shards, split counts,
//! the normalisation statistics and the documented tensor layouts), the build report, and its
//! reader.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{BuildOptions, FORMAT, VERSION};
use crate::data::error::{io, DataError};

/// Kind of take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TakeKind {
    Real,
    Procedural,
    Mixed,
}

/// Train or validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
        }
    }
}

/// One take in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TakeInfo {
    pub id: String,
    pub source: String,
    pub kind: TakeKind,
    pub split: Split,
    /// Frames at 30 fps as captured (before augmentation).
    pub frames: usize,
    pub minutes: f32,
    /// Clips (windows, after augmentation) cut from it.
    pub clips: usize,
}

/// One source in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub name: String,
    pub kind: TakeKind,
    pub licence: String,
    pub takes: usize,
    pub minutes: f32,
    pub clips: usize,
}

/// One shard file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub file: String,
    pub split: Split,
    pub samples: usize,
}

/// Per split counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitCounts {
    pub takes: usize,
    /// Motion windows.
    pub clips: usize,
    /// Clip x camera pairs (rows in the shards).
    pub samples: usize,
}

/// Normalisation statistics and conventions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Per-dim mean of the 151-dim target over the train split (each clip once).
    pub target_mean: Vec<f32>,
    /// Per-dim standard deviation (population) over the train split.
    pub target_std: Vec<f32>,
    /// How `pose2d` was normalised (see `data::cond2d`).
    pub pose2d: String,
    pub pose2d_min_score: f32,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub seed: u64,
    pub fps: f32,
    pub clip_len: usize,
    pub feature_dim: usize,
    pub target_layout: String,
    pub minutes_real: f32,
    pub minutes_procedural: f32,
    pub minutes_mixed: f32,
    /// Procedural minutes / all minutes (before augmentation).
    pub procedural_share: f32,
    pub sources: Vec<SourceInfo>,
    pub train: SplitCounts,
    pub val: SplitCounts,
    pub shards: Vec<ShardInfo>,
    pub takes: Vec<TakeInfo>,
    pub normalization: Normalization,
    pub options: BuildOptions,
}

/// What a build did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildReport {
    pub out_dir: PathBuf,
    pub manifest: PathBuf,
    pub minutes_real: f32,
    pub minutes_procedural: f32,
    pub minutes_mixed: f32,
    pub train: SplitCounts,
    pub val: SplitCounts,
    pub shards: usize,
    pub bytes: u64,
    pub seconds: f32,
}

impl std::fmt::Display for BuildReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "built {} ({} shards, {:.1} MB) in {:.1} s",
            self.out_dir.display(),
            self.shards,
            self.bytes as f64 / 1e6,
            self.seconds
        )?;
        writeln!(f, "minutes: real {:.2}, procedural {:.2}, mixed {:.2}", self.minutes_real, self.minutes_procedural, self.minutes_mixed)?;
        writeln!(f, "train: {} takes, {} clips, {} samples", self.train.takes, self.train.clips, self.train.samples)?;
        write!(f, "val:   {} takes, {} clips, {} samples", self.val.takes, self.val.clips, self.val.samples)
    }
}

/// The target layout, for the manifest.
pub const TARGET_LAYOUT: &str = "per frame: [0..144) 24 SMPL joints x 6D local rotation (first two columns of the rotation matrix: c0x c0y c0z c1x c1y c1z, as skeleton::rotation::mat_to_6d); [144..148) foot contacts 0/1 (left ankle, left foot, right ankle, right foot); [148..151) pelvis position, metres, canonical frame (first frame faces +Z, root over the origin, feet on the floor)";

pub(super) const POSE2D_DOC: &str = "COCO-17 (u, v, score) from a moving virtual camera with detector noise, image y down; per 150-frame window: keypoints with score < 0.2 -> (0,0,0); others ((u-cx)/s, (v-cy)/s, score) with (cx, cy) the frame's COCO hip midpoint (11,12; interpolated from the nearest frames when a hip is missing) and s the window's median torso length |mid(5,6) - mid(11,12)| in pixels (fallback 0.35 x median bbox side); see mocapd::motion::frame2d::normalize_sequence";


/// Read a built manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest, DataError> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let m: Manifest = serde_json::from_str(&text).map_err(|source| DataError::Json { path: path.clone(), source })?;
    if m.format != FORMAT || m.version != VERSION {
        return Err(DataError::BadDataset { path, reason: format!("format {} v{}, expected {FORMAT} v{VERSION}", m.format, m.version) });
    }
    Ok(m)
}

