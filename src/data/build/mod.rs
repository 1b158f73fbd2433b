//! `data build`: the training set (the plan in `plan.rs`, shard files in `shard.rs`, the manifest in [`manifest`]).
//!
//! Takes (whole real files, procedural takes, real upper/lower-body mixes) are split into train
//! and validation **by take** (seeded shuffle; about `val_fraction` of the real takes and of the
//! procedural takes, at least one take in validation when there are two or more; mixes are made
//! from training takes only and stay in training). Real and mixed takes are augmented by
//! mirroring and speed changes; every take is cut into `clip_len`-frame windows (30 fps) every
//! `stride` frames (takes shorter than one window hold their last frame), each window is
//! canonicalised (first frame faces +Z, root over the origin, feet on the floor) and turned into
//! the 151-dim target ([`crate::motion::codec`]). Each window is seen by `cameras` random moving
//! virtual cameras ([`crate::data::cond2d`]), whose COCO-17 projections get detector noise and the
//! model's normalisation. Output in `out_dir`: `train-NNNNN.safetensors`,
//! `val-NNNNN.safetensors` (tensors `motion` [N,150,151] f32, `pose2d` [N,150,17,3] f32, `take`
//! [N] i64 = index into the manifest's `takes`, `speed` [N] f32, `mirrored` [N] u8) and
//! `manifest.json` ([`Manifest`]). Deterministic given the seed: same options, same bytes.

use std::path::PathBuf;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

pub mod manifest;
mod plan;
mod shard;

pub use manifest::*;

use plan::{bar, check_options, pad_to, plan, seed_for};
use shard::ShardWriter;
use super::cond2d::{self, CameraPath, CameraRanges, DetectorNoise};
use super::error::{io, DataError};
use super::augment::{change_speed, mirror, windows};
use crate::motion::codec::{encode as features, FEATURE_DIM};
use crate::motion::frame2d::{normalize_sequence, NORM_MIN_SCORE};
use crate::motion::placement::canonicalize;
use super::procedural::ProceduralOptions;
use crate::skeleton::coco::{coco_from_pose, NUM_COCO};

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
    /// Virtual cameras per clip.
    pub cameras: usize,
    /// Add the left-right mirror of every real and mixed take.
    pub mirror: bool,
    /// Playback speeds for real and mixed takes (1.0 = as captured).
    pub speeds: Vec<f32>,
    /// Real sources to use (empty = every fetched source except LAFAN1).
    pub sources: Vec<String>,
    /// Use at most this many takes per real source (0 = all).
    pub max_takes_per_source: usize,
    /// Include LAFAN1 (CC BY-NC-ND 4.0): never ship anything built with it.
    pub include_lafan1: bool,
    /// Minutes of procedural motion.
    pub procedural_minutes: f32,
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
            cameras: 4,
            mirror: true,
            speeds: vec![0.8, 1.0, 1.25],
            sources: Vec::new(),
            max_takes_per_source: 0,
            include_lafan1: false,
            procedural_minutes: 30.0,
            procedural: ProceduralOptions::default(),
            procedural_stride: 150,
            mixed_takes: 16,
            val_fraction: 0.12,
            shard_size: 1024,
            camera: CameraRanges::default(),
            noise: DetectorNoise::default(),
            progress: true,
        }
    }
}

/// Build the data set (see the module docs).
pub fn build(o: &BuildOptions) -> Result<BuildReport, DataError> {
    let start = Instant::now();
    check_options(o)?;
    let mut takes = plan(o, o.progress)?;
    if takes.is_empty() {
        return Err(DataError::NoTakes { dir: o.raw_dir.clone() });
    }
    std::fs::create_dir_all(&o.out_dir).map_err(io(&o.out_dir))?;
    // Remove a previous build's shards and manifest (nothing else).
    if let Ok(rd) = std::fs::read_dir(&o.out_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours =
                name == "manifest.json" || ((name.starts_with("train-") || name.starts_with("val-")) && name.ends_with(".safetensors"));
            if ours {
                std::fs::remove_file(e.path()).map_err(io(&e.path()))?;
            }
        }
    }
    let mut writers = [
        ShardWriter::new(&o.out_dir, Split::Train, o.shard_size, o.clip_len),
        ShardWriter::new(&o.out_dir, Split::Val, o.shard_size, o.clip_len),
    ];
    let mut counts = [SplitCounts::default(), SplitCounts::default()];
    let mut sum = vec![0.0f64; FEATURE_DIM];
    let mut sumsq = vec![0.0f64; FEATURE_DIM];
    let mut n_frames = 0u64;
    let secs = o.clip_len as f32 / FPS;
    let pb = bar(o.progress, takes.len() as u64, "clips");
    for (ti, take) in takes.iter_mut().enumerate() {
        let si = (take.info.split == Split::Val) as usize;
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
                    let feats = features(&w);
                    if let Some(f) = feats.iter().position(|v| v.iter().any(|x| !x.is_finite())) {
                        return Err(DataError::NonFinite { take: take.info.id.clone(), frame: f });
                    }
                    take.info.clips += 1;
                    counts[si].clips += 1;
                    if si == 0 {
                        n_frames += feats.len() as u64;
                        for v in &feats {
                            for (k, x) in v.iter().enumerate() {
                                sum[k] += *x as f64;
                                sumsq[k] += (*x as f64) * (*x as f64);
                            }
                        }
                    }
                    let coco: Vec<[_; NUM_COCO]> = (0..w.len()).map(|f| coco_from_pose(&w.rotations[f], w.root[f])).collect();
                    let follow = cond2d::follow_path(&w.root, FPS);
                    for _ in 0..o.cameras {
                        let path = CameraPath::random(&o.camera, secs, &mut rng);
                        let kp = cond2d::project_clip(&path, &coco, &follow, FPS, &o.noise, &mut rng);
                        let kp = normalize_sequence(&kp);
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
    let [w0, w1] = writers;
    let bytes = w0.bytes + w1.bytes;
    let mut shards = w0.shards;
    shards.extend(w1.shards);
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        seed: o.seed,
        fps: FPS,
        clip_len: o.clip_len,
        feature_dim: FEATURE_DIM,
        target_layout: TARGET_LAYOUT.into(),
        minutes_real: mr,
        minutes_procedural: mp,
        minutes_mixed: mm,
        procedural_share: mp / (mr + mp + mm).max(1e-9),
        sources,
        train: counts[0].clone(),
        val: counts[1].clone(),
        shards,
        takes: takes.into_iter().map(|t| t.info).collect(),
        normalization: Normalization {
            target_mean: mean,
            target_std: std,
            pose2d: POSE2D_DOC.into(),
            pose2d_min_score: NORM_MIN_SCORE,
        },
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
        shards: manifest.shards.len(),
        bytes,
        seconds: start.elapsed().as_secs_f32(),
    })
}
