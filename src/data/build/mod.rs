//! `data build`: the training set (the plan in `plan.rs`, shard files in `shard.rs`, the manifest in [`manifest`]).
//!
//! Takes (whole real files, procedural takes, real upper/lower-body mixes) are split into train
//! and validation **by take** (seeded shuffle; about `val_fraction` of the real takes and of the
//! procedural takes, at least one take in validation when there are two or more; mixes are made
//! from training takes only and stay in training). Real and mixed takes are augmented by
//! mirroring and speed changes; every take is cut into `clip_len`-frame windows (30 fps) every
//! `stride` frames (takes shorter than one window hold their last frame). Each window is seen in
//! `cameras` views, each a fresh random camera (moving or static, [`crate::data::cond2d`]) and a
//! fresh random body ([`crate::data::body`]) whose COCO-17 projections get detector noise and the
//! model's normalisation; each view's target is the window in that camera's gravity-view frame
//! ([`crate::motion::contract`]) as the 151-dim features ([`crate::motion::codec`]), on the SMPL
//! mean skeleton. Output in `out_dir`: `train-NNNNN.safetensors`,
//! `val-NNNNN.safetensors` (tensors `motion` \[N,150,151\] f32, `pose2d` \[N,150,17,3\] f32, `take`
//! \[N\] i64 = index into the manifest's `takes`, `speed` \[N\] f32, `mirrored` \[N\] u8) and
//! `manifest.json` ([`Manifest`]). Deterministic given the seed: same options, same bytes.
//!
//! Real takes also come from BVH folders (`bvh_dirs`, `--bvh-dir`; [`crate::data::cmu`]: e.g.
//! the CMU corpus with its `MANIFEST.tsv`). Takes of a CMU subject are split by subject, not by
//! take: validation and test are whole held-out subjects ([`crate::data::cmu::VAL_SUBJECTS`],
//! [`crate::data::cmu::TEST_SUBJECTS`]); `test-NNNNN.safetensors` holds the test split. Every real
//! take must pass the retarget checks ([`crate::data::retarget::check`]); one that fails to load
//! or fails a check is left out and listed with the reason (`rejected` in the manifest and the
//! report) instead of failing the build. With BVH folders, procedural motion is capped at
//! `max_procedural_share` of the training minutes.

use std::path::PathBuf;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

pub mod manifest;
mod plan;
mod shard;

pub use manifest::*;
pub(crate) use plan::bar;

use super::augment::{change_speed, mirror, windows};
use super::body::{BodyRanges, BodyShape};
use super::cond2d::{self, CameraPath, CameraRanges, DetectorNoise};
use super::error::{io, DataError};
use super::procedural::ProceduralOptions;
use crate::motion::codec::{encode as features, FEATURE_DIM};
use crate::motion::frame2d::{normalize_sequence, NORM_MIN_SCORE};
use crate::motion::placement::{canonicalize, place_clip, Placement};
use crate::motion::Contract;
use crate::skeleton::coco::NUM_COCO;
use plan::{pad_to, plan, seed_for};
use shard::ShardWriter;

/// Data-set format name and version in the manifest.
pub const FORMAT: &str = "mocapd.dataset";
pub const VERSION: u32 = 1;
/// Frames per second of every clip.
pub const FPS: f32 = 30.0;

/// What to build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildOptions {
    /// Fetched data (`data/raw`).
    pub raw_dir: PathBuf,
    /// Output folder (`data/train`).
    pub out_dir: PathBuf,
    pub seed: u64,
    /// Frames per clip.
    pub clip_len: usize,
    /// Window step for real and mixed takes (frames); `clip_len / 2` = 50 % overlap.
    pub stride: usize,
    /// Views per window: each a fresh random camera ([`CameraRanges`]) and body ([`BodyRanges`]).
    pub cameras: usize,
    /// Add the left-right mirror of every real and mixed take.
    pub mirror: bool,
    /// Playback speeds for real and mixed takes (1.0 = as captured).
    pub speeds: Vec<f32>,
    /// Real sources to use (empty = every fetched source except LAFAN1).
    pub sources: Vec<String>,
    /// Use at most this many takes per real source and per `bvh_dirs` folder (0 = all).
    pub max_takes_per_source: usize,
    /// Include LAFAN1 (CC BY-NC-ND 4.0): never ship anything built with it.
    pub include_lafan1: bool,
    /// BVH folders read where they are (`--bvh-dir`, e.g. the CMU corpus; [`crate::data::cmu`]):
    /// with a `MANIFEST.tsv` its `skeleton` column picks each file's rig, otherwise the rig is
    /// detected from joint names.
    #[serde(default)]
    pub bvh_dirs: Vec<PathBuf>,
    /// Minutes of procedural motion.
    pub procedural_minutes: f32,
    /// With takes from `bvh_dirs`: procedural motion is at most this share of the training
    /// minutes (`procedural_minutes` is lowered, and the report says so); 1 = no cap.
    #[serde(default = "default_max_procedural_share")]
    pub max_procedural_share: f32,
    pub procedural: ProceduralOptions,
    /// Window step for procedural takes (frames).
    pub procedural_stride: usize,
    /// Number of real upper/lower-body mixes (each from two training takes).
    pub mixed_takes: usize,
    /// Fraction of takes held out for validation.
    pub val_fraction: f32,
    /// Samples per shard file.
    pub shard_size: usize,
    pub camera: CameraRanges,
    #[serde(default)]
    pub body: BodyRanges,
    pub noise: DetectorNoise,
    /// Show progress bars (stderr).
    pub progress: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            raw_dir: PathBuf::from("data/raw"),
            out_dir: PathBuf::from("data/train"),
            seed: 0x006d_6f63_6170,
            clip_len: 150,
            stride: 75,
            cameras: 16,
            mirror: true,
            speeds: vec![0.8, 1.0, 1.25],
            sources: Vec::new(),
            max_takes_per_source: 0,
            include_lafan1: false,
            bvh_dirs: Vec::new(),
            procedural_minutes: 30.0,
            max_procedural_share: default_max_procedural_share(),
            procedural: ProceduralOptions::default(),
            procedural_stride: 150,
            mixed_takes: 16,
            val_fraction: 0.12,
            shard_size: 1024,
            camera: CameraRanges::default(),
            body: BodyRanges::default(),
            noise: DetectorNoise::default(),
            progress: true,
        }
    }
}

impl BuildOptions {
    /// Checks every option's range, naming the CLI flag where there is one (`--cameras` ≥ 1,
    /// `--procedural-minutes` finite ≥ 0, `--max-procedural-share` in \[0, 1\]); [`build`] calls
    /// it before reading anything.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |s: String| Err(DataError::BadOptions(s));
        if self.cameras == 0 {
            return bad("--cameras must be at least 1".into());
        }
        if !(self.procedural_minutes.is_finite() && self.procedural_minutes >= 0.0) {
            return bad(format!("--procedural-minutes must be a finite number of minutes >= 0, got {}", self.procedural_minutes));
        }
        if !(0.0..=1.0).contains(&self.max_procedural_share) {
            return bad(format!("--max-procedural-share must be in [0, 1], got {}", self.max_procedural_share));
        }
        if self.clip_len < 2 {
            return bad("clip_len must be at least 2".into());
        }
        if self.stride == 0 || self.procedural_stride == 0 {
            return bad("strides must be positive".into());
        }
        if self.shard_size == 0 {
            return bad("shard_size must be positive".into());
        }
        if self.speeds.is_empty() || self.speeds.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return bad("speeds must be positive, finite and not empty".into());
        }
        if !(0.0..1.0).contains(&self.val_fraction) {
            return bad("val_fraction must be in [0, 1)".into());
        }
        Ok(())
    }
}

fn default_max_procedural_share() -> f32 {
    0.25
}

/// Build the data set (see the module docs).
pub fn build(o: &BuildOptions) -> Result<BuildReport, DataError> {
    let start = Instant::now();
    o.validate()?;
    let plan::Planned { mut takes, rejected, subjects, procedural_cap } = plan(o, o.progress)?;
    if takes.is_empty() {
        return Err(DataError::NoTakes { dir: o.raw_dir.clone() });
    }
    std::fs::create_dir_all(&o.out_dir).map_err(io(&o.out_dir))?;
    // Remove a previous build's shards and manifest (nothing else).
    if let Ok(rd) = std::fs::read_dir(&o.out_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = name == "manifest.json"
                || (Split::ALL.iter().any(|s| name.starts_with(&format!("{}-", s.name()))) && name.ends_with(".safetensors"));
            if ours {
                std::fs::remove_file(e.path()).map_err(io(&e.path()))?;
            }
        }
    }
    let mut writers = Split::ALL.map(|s| ShardWriter::new(&o.out_dir, s, o.shard_size, o.clip_len));
    let mut counts: [SplitCounts; 3] = Default::default();
    let mut sum = vec![0.0f64; FEATURE_DIM];
    let mut sumsq = vec![0.0f64; FEATURE_DIM];
    let mut n_frames = 0u64;
    let secs = o.clip_len as f32 / FPS;
    let pb = bar(o.progress, takes.len() as u64, "clips");
    for (ti, take) in takes.iter_mut().enumerate() {
        let si = take.info.split.index();
        counts[si].takes += 1;
        let mut rng = StdRng::seed_from_u64(seed_for(o.seed, 3, ti as u64));
        let mirrors: &[bool] = if take.augment && o.mirror { &[false, true] } else { &[false] };
        let speeds: Vec<f32> = if take.augment { o.speeds.clone() } else { vec![1.0] };
        for &mirrored in mirrors {
            let base = if mirrored { mirror(&take.motion) } else { take.motion.clone() };
            for &speed in &speeds {
                let m = if (speed - 1.0).abs() > 1e-6 {
                    change_speed(&base, speed).map_err(|source| DataError::Motion { take: take.info.id.clone(), source })?
                } else {
                    base.clone()
                };
                let m = if m.len() < o.clip_len { pad_to(&m, o.clip_len) } else { m };
                for w in windows(&m, o.clip_len, take.stride) {
                    let w = canonicalize(&w).map_err(|source| DataError::Motion { take: take.info.id.clone(), source })?;
                    let first = w.frame(0).ok_or_else(|| DataError::NonFinite { take: take.info.id.clone(), frame: 0 })?;
                    take.info.clips += 1;
                    counts[si].clips += 1;
                    for _ in 0..o.cameras {
                        // A fresh camera and a fresh body for every view; the target is the window
                        // in this camera's gravity-view frame, on the mean skeleton.
                        let path = CameraPath::random(&o.camera, secs, &mut rng);
                        let body = BodyShape::random(&o.body, &mut rng);
                        let coco: Vec<[_; NUM_COCO]> = (0..w.len()).map(|f| body.coco(&w.rotations[f], w.root[f])).collect();
                        let scaled_root: Vec<_> = w.root.iter().map(|r| r.map(|v| v * body.leg_scale())).collect();
                        let follow = cond2d::follow_path(&scaled_root, FPS);
                        let kp = cond2d::project_clip(&path, &coco, &follow, FPS, &o.noise, &mut rng);
                        let kp = normalize_sequence(&kp, Contract::CURRENT);
                        let feats = features(&place_clip(&w, &Placement::gravity_view(path.yaw, &first)));
                        if let Some(f) = feats.iter().position(|v| v.iter().any(|x| !x.is_finite())) {
                            return Err(DataError::NonFinite { take: take.info.id.clone(), frame: f });
                        }
                        if si == 0 {
                            n_frames += feats.len() as u64;
                            for v in &feats {
                                for (k, x) in v.iter().enumerate() {
                                    sum[k] += *x as f64;
                                    sumsq[k] += (*x as f64) * (*x as f64);
                                }
                            }
                        }
                        writers[si].push(&feats, &kp, ti, speed, mirrored)?;
                        counts[si].samples += 1;
                    }
                }
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    for w in &mut writers {
        w.flush()?;
    }
    if counts[1].takes == 0 && takes.len() >= 2 {
        return Err(DataError::BadOptions("no validation take (need at least two takes)".into()));
    }
    let n = n_frames.max(1) as f64;
    let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
    let std: Vec<f32> = sum.iter().zip(&sumsq).map(|(s, q)| ((q / n - (s / n).powi(2)).max(0.0).sqrt()) as f32).collect();
    let minutes_of = |k: TakeKind| takes.iter().filter(|t| t.info.kind == k).map(|t| t.info.minutes).sum::<f32>();
    let (mr, mp, mm) = (minutes_of(TakeKind::Real), minutes_of(TakeKind::Procedural), minutes_of(TakeKind::Mixed));
    let mut sources: Vec<SourceInfo> = Vec::new();
    for t in &takes {
        match sources.iter_mut().find(|s| s.name == t.info.source) {
            Some(s) => {
                s.takes += 1;
                s.minutes += t.info.minutes;
                s.clips += t.info.clips;
            }
            None => sources.push(SourceInfo {
                name: t.info.source.clone(),
                kind: t.info.kind,
                licence: t.licence.clone(),
                takes: 1,
                minutes: t.info.minutes,
                clips: t.info.clips,
            }),
        }
    }
    let bytes = writers.iter().map(|w| w.bytes).sum();
    let shards: Vec<ShardInfo> = writers.into_iter().flat_map(|w| w.shards).collect();
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        seed: o.seed,
        fps: FPS,
        clip_len: o.clip_len,
        feature_dim: FEATURE_DIM,
        target_layout: TARGET_LAYOUT.into(),
        contract: Contract::CURRENT,
        minutes_real: mr,
        minutes_procedural: mp,
        minutes_mixed: mm,
        procedural_share: mp / (mr + mp + mm).max(1e-9),
        sources,
        train: counts[0].clone(),
        val: counts[1].clone(),
        test: counts[2].clone(),
        subjects,
        categories: category_minutes(takes.iter().map(|t| &t.info)),
        rejected,
        procedural_cap,
        shards,
        takes: takes.into_iter().map(|t| t.info).collect(),
        normalization: Normalization { target_mean: mean, target_std: std, pose2d: POSE2D_DOC.into(), pose2d_min_score: NORM_MIN_SCORE },
        options: BuildOptions { progress: false, ..o.clone() },
    };
    let path = o.out_dir.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).map_err(|source| DataError::Json { path: path.clone(), source })?;
    std::fs::write(&path, text).map_err(io(&path))?;
    Ok(BuildReport {
        out_dir: o.out_dir.clone(),
        manifest: path,
        minutes_real: mr,
        minutes_procedural: mp,
        minutes_mixed: mm,
        train: manifest.train,
        val: manifest.val,
        test: manifest.test,
        sources: manifest.sources,
        subjects: manifest.subjects,
        categories: manifest.categories,
        rejected: manifest.rejected,
        procedural_cap: manifest.procedural_cap,
        shards: manifest.shards.len(),
        bytes,
        seconds: start.elapsed().as_secs_f32(),
    })
}
