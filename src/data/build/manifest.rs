//! The built data set's `manifest.json` ([`Manifest`]: takes, sources, shards, split counts,
//! the normalisation statistics and the documented tensor layouts), the build report, and its
//! reader.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{BuildOptions, FORMAT, VERSION};
use crate::data::error::{io, DataError};
use crate::data::sources::TakeMeta;
use crate::motion::Contract;

/// Kind of take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TakeKind {
    Real,
    Procedural,
    Mixed,
}

/// Train, validation or test. Test holds only the held-out CMU subjects
/// ([`crate::data::cmu::TEST_SUBJECTS`]); validation holds the held-out CMU validation subjects
/// and a seeded share of the other takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    /// Every split, in index order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    /// Position in [`Split::ALL`].
    pub fn index(self) -> usize {
        match self {
            Split::Train => 0,
            Split::Val => 1,
            Split::Test => 2,
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
    /// Rig, file, CMU subject/trial, category, description, licence where known.
    #[serde(flatten)]
    pub meta: TakeMeta,
    /// The source's own bone lengths on SMPL, metres, per SMPL joint (the bone to its parent;
    /// see [`crate::data::retarget::bone_lengths`]); the motion itself is on SMPL's rest offsets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bone_lengths: Option<Vec<f32>>,
}

/// A real take left out of the build, and why (it failed to load or retarget, failed the
/// retarget checks of [`crate::data::retarget::check`], or a `--bvh-dir` folder has it too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedTake {
    pub id: String,
    pub file: PathBuf,
    pub reason: String,
}

/// CMU subjects in each split (a subject is in one split only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitSubjects {
    pub train: Vec<u32>,
    pub val: Vec<u32>,
    pub test: Vec<u32>,
}

/// Procedural minutes lowered so that procedural motion stays under `share` of the training
/// minutes (BVH folders given; [`super::BuildOptions::max_procedural_share`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProceduralCap {
    pub requested: f32,
    pub used: f32,
    pub share: f32,
    /// Real training minutes the cap was computed from (before augmentation, without mixes).
    pub train_real_minutes: f32,
}

/// Takes and minutes of one category in one split (before augmentation). The category is the
/// take's own (CMU corpus manifest) or, for other takes, `(source)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryMinutes {
    pub split: Split,
    pub category: String,
    pub takes: usize,
    pub minutes: f32,
}

/// Takes and minutes per split and category, sorted by split, then minutes (largest first).
pub fn category_minutes<'a>(takes: impl IntoIterator<Item = &'a TakeInfo>) -> Vec<CategoryMinutes> {
    let mut out: Vec<CategoryMinutes> = Vec::new();
    for t in takes {
        let category = t.meta.category.clone().unwrap_or_else(|| format!("({})", t.source));
        match out.iter_mut().find(|c| c.split == t.split && c.category == category) {
            Some(c) => {
                c.takes += 1;
                c.minutes += t.minutes;
            }
            None => out.push(CategoryMinutes { split: t.split, category, takes: 1, minutes: t.minutes }),
        }
    }
    out.sort_by(|a, b| a.split.index().cmp(&b.split.index()).then(b.minutes.total_cmp(&a.minutes)).then(a.category.cmp(&b.category)));
    out
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub seed: u64,
    pub fps: f32,
    pub clip_len: usize,
    pub feature_dim: usize,
    pub target_layout: String,
    /// The motion contract of the targets and 2D conditions (`first-frame` for data sets built
    /// before it was recorded); a model trained here records it in its checkpoint.
    #[serde(default)]
    pub contract: Contract,
    pub minutes_real: f32,
    pub minutes_procedural: f32,
    pub minutes_mixed: f32,
    /// Procedural minutes / all minutes (before augmentation).
    pub procedural_share: f32,
    pub sources: Vec<SourceInfo>,
    pub train: SplitCounts,
    pub val: SplitCounts,
    /// The held-out CMU test subjects (empty without CMU takes).
    #[serde(default)]
    pub test: SplitCounts,
    /// CMU subjects per split.
    #[serde(default)]
    pub subjects: SplitSubjects,
    /// Takes and minutes per split and category.
    #[serde(default)]
    pub categories: Vec<CategoryMinutes>,
    /// Real takes left out, with the reason.
    #[serde(default)]
    pub rejected: Vec<RejectedTake>,
    /// Set when the procedural minutes were lowered.
    #[serde(default)]
    pub procedural_cap: Option<ProceduralCap>,
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
    pub test: SplitCounts,
    /// Takes and minutes per source (per rig for `--bvh-dir` takes).
    pub sources: Vec<SourceInfo>,
    pub subjects: SplitSubjects,
    pub categories: Vec<CategoryMinutes>,
    pub rejected: Vec<RejectedTake>,
    pub procedural_cap: Option<ProceduralCap>,
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
        // `+ 0.0`: an empty float sum is -0.0.
        writeln!(
            f,
            "minutes: real {:.2}, procedural {:.2}, mixed {:.2}",
            self.minutes_real + 0.0,
            self.minutes_procedural + 0.0,
            self.minutes_mixed + 0.0
        )?;
        if let Some(c) = &self.procedural_cap {
            writeln!(
                f,
                "procedural minutes capped {:.2} -> {:.2} (at most {:.0} % of the training minutes; real training minutes {:.2})",
                c.requested,
                c.used,
                c.share * 100.0,
                c.train_real_minutes
            )?;
        }
        for s in &self.sources {
            writeln!(f, "  {:<26} {:>4} takes {:>7.2} min {:>7} clips", s.name, s.takes, s.minutes, s.clips)?;
        }
        let subjects = |l: &[u32]| if l.is_empty() { String::new() } else { format!(", CMU subjects {l:?}") };
        let splits = [
            (Split::Train, &self.train, &self.subjects.train),
            (Split::Val, &self.val, &self.subjects.val),
            (Split::Test, &self.test, &self.subjects.test),
        ];
        for (split, c, subj) in splits {
            let minutes = self.categories.iter().filter(|k| k.split == split).map(|k| k.minutes).sum::<f32>() + 0.0;
            let name = format!("{}:", split.name());
            writeln!(f, "{name:<6} {} takes, {minutes:.2} min, {} clips, {} samples{}", c.takes, c.clips, c.samples, subjects(subj))?;
            for k in self.categories.iter().filter(|k| k.split == split) {
                writeln!(f, "         {:<22} {:>4} takes {:>7.2} min", k.category, k.takes, k.minutes)?;
            }
        }
        write!(f, "rejected: {} takes", self.rejected.len())?;
        for r in &self.rejected {
            write!(f, "\n  {}: {}", r.id, r.reason)?;
        }
        Ok(())
    }
}

/// The target layout, for the manifest.
pub const TARGET_LAYOUT: &str = "per frame: [0..144) 24 SMPL joints x 6D local rotation (first two columns of the rotation matrix: c0x c0y c0z c1x c1y c1z, as skeleton::rotation::mat_to_6d); [144..148) foot contacts 0/1 (left ankle, left foot, right ankle, right foot); [148..151) pelvis position, metres; one sample per (window, view): the pelvis orientation (joint 0) and position are in that view's gravity-view frame (Y up, the camera looks along -Z from +Z at the window's first frame, the first frame's pelvis over the origin, feet on the floor; mocapd::motion::contract); the body's bones are the SMPL mean skeleton whatever body the 2D shows";

pub(super) const POSE2D_DOC: &str = "COCO-17 (u, v, score) of a random body (bone lengths and height varied) seen by a random moving or static virtual camera with detector noise, image y down; per 150-frame window: keypoints with score < 0.2 -> (0,0,0); others ((u-cx)/s, (v-cy)/s, score) with (cx, cy) the frame's COCO hip midpoint (11,12; interpolated from the nearest frames when a hip is missing) and s the window's gravity-view scale: the largest per-segment estimate of the torso length (median over frames of each segment's length / its length in torso units on the SMPL mean body; fallback 0.35 x median bbox side); see mocapd::motion::frame2d::normalize_sequence";

/// Read a built manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest, DataError> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DataError::NoDataset { dir: dir.to_path_buf() },
        _ => io(&path)(e),
    })?;
    let m: Manifest = serde_json::from_str(&text).map_err(|source| DataError::Json { path: path.clone(), source })?;
    if m.format != FORMAT || m.version != VERSION {
        return Err(DataError::BadDataset { path, reason: format!("format {} v{}, expected {FORMAT} v{VERSION}", m.format, m.version) });
    }
    Ok(m)
}
