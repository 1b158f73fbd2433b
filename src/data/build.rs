//! `data build`: the training set.
//!
//! Takes (whole real files, procedural takes, real upper/lower-body mixes) are split into train
//! and validation **by take** (seeded shuffle; about `val_fraction` of the real takes and of the
//! procedural takes, at least one take in validation when there are two or more; mixes are made
//! from training takes only and stay in training). Real and mixed takes are augmented by
//! mirroring and speed changes; every take is cut into `clip_len`-frame windows (30 fps) every
//! `stride` frames (takes shorter than one window hold their last frame), each window is
//! canonicalised (first frame faces +Z, root over the origin, feet on the floor) and turned into
//! the 151-dim target ([`super::features`]). Each window is seen by `cameras` random moving
//! virtual cameras ([`super::cond2d`]), whose COCO-17 projections get detector noise and the
//! model's normalisation. Output in `out_dir`: `train-NNNNN.safetensors`,
//! `val-NNNNN.safetensors` (tensors `motion` [N,150,151] f32, `pose2d` [N,150,17,3] f32, `take`
//! [N] i64 = index into the manifest's `takes`, `speed` [N] f32, `mirrored` [N] u8) and
//! `manifest.json` ([`Manifest`]). Deterministic given the seed: same options, same bytes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::cond2d::{self, CameraPath, CameraRanges, DetectorNoise};
use super::error::{io, DataError};
use super::augment::{change_speed, mirror, windows};
use crate::motion::codec::{encode as features, FEATURE_DIM};
use crate::motion::frame2d::{normalize_sequence, Frame2d, NORM_MIN_SCORE};
use crate::motion::placement::canonicalize;
use crate::motion::Motion;
use super::procedural::{self, ProceduralOptions};
use super::sources;
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
            seed: 0x6d6f_6361_70,
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

const POSE2D_DOC: &str = "COCO-17 (u, v, score) from a moving virtual camera with detector noise, image y down; per 150-frame window: keypoints with score < 0.2 -> (0,0,0); others ((u-cx)/s, (v-cy)/s, score) with (cx, cy) the frame's COCO hip midpoint (11,12; interpolated from the nearest frames when a hip is missing) and s the window's median torso length |mid(5,6) - mid(11,12)| in pixels (fallback 0.35 x median bbox side); see mocapd::motion::frame2d::normalize_sequence";

struct PlannedTake {
    info: TakeInfo,
    licence: String,
    motion: Motion,
    augment: bool,
    stride: usize,
}

fn seed_for(seed: u64, a: u64, b: u64) -> u64 {
    // splitmix64 over the combination
    let mut z = seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn bar(show: bool, len: u64, msg: &'static str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed}, eta {eta})") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg);
    pb
}

fn check_options(o: &BuildOptions) -> Result<(), DataError> {
    let bad = |s: &str| Err(DataError::BadOptions(s.to_string()));
    if o.clip_len < 2 {
        return bad("clip_len must be at least 2");
    }
    if o.stride == 0 || o.procedural_stride == 0 {
        return bad("strides must be positive");
    }
    if o.cameras == 0 {
        return bad("cameras must be at least 1");
    }
    if o.shard_size == 0 {
        return bad("shard_size must be positive");
    }
    if o.speeds.is_empty() || o.speeds.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return bad("speeds must be positive, finite and not empty");
    }
    if !(0.0..1.0).contains(&o.val_fraction) {
        return bad("val_fraction must be in [0, 1)");
    }
    if !(o.procedural_minutes.is_finite() && o.procedural_minutes >= 0.0) {
        return bad("procedural_minutes must be >= 0");
    }
    Ok(())
}

/// Hold the last frame until the clip has `len` frames.
fn pad_to(m: &Motion, len: usize) -> Motion {
    let mut out = m.clone();
    while out.len() < len {
        let (r, q) = (out.root[out.len() - 1], out.rotations[out.len() - 1]);
        out.root.push(r);
        out.rotations.push(q);
    }
    out
}

fn split_indices(n: usize, frac: f32, rng: &mut StdRng) -> Vec<bool> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let n_val = if n >= 2 { ((frac * n as f32).round() as usize).clamp(1, n - 1) } else { 0 };
    let mut val = vec![false; n];
    for &i in order.iter().take(n_val) {
        val[i] = true;
    }
    val
}

fn plan(o: &BuildOptions, pb_show: bool) -> Result<Vec<PlannedTake>, DataError> {
    let minutes = |m: &Motion| m.len() as f32 / FPS / 60.0;
    // Real takes.
    let mut real = Vec::new();
    let defs: Vec<&sources::SourceDef> = sources::SOURCES
        .iter()
        .filter(|d| if o.sources.is_empty() { !d.opt_in || o.include_lafan1 } else { o.sources.iter().any(|s| s == d.name) })
        .filter(|d| !d.opt_in || o.include_lafan1)
        .collect();
    for s in &o.sources {
        if sources::source_def(s).is_none() {
            return Err(DataError::BadOptions(format!("unknown source `{s}`")));
        }
    }
    let files: Vec<(&sources::SourceDef, PathBuf)> = defs
        .iter()
        .flat_map(|d| {
            let mut f = sources::source_files(&o.raw_dir, d);
            if o.max_takes_per_source > 0 {
                f.truncate(o.max_takes_per_source);
            }
            f.into_iter().map(move |p| (*d, p))
        })
        .collect();
    let pb = bar(pb_show, files.len() as u64, "retarget");
    for (def, path) in files {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = stem.strip_prefix("humanoid3d_").unwrap_or(&stem).to_string();
        let id = format!("{}/{}", def.name, stem);
        let (motion, _) = sources::load_file(&path, Some(def.rig), &id)?;
        real.push(PlannedTake {
            info: TakeInfo {
                id,
                source: def.name.into(),
                kind: TakeKind::Real,
                split: Split::Train,
                frames: motion.len(),
                minutes: minutes(&motion),
                clips: 0,
            },
            licence: def.licence.into(),
            motion,
            augment: true,
            stride: o.stride,
        });
        pb.inc(1);
    }
    pb.finish_and_clear();
    let mut rng = StdRng::seed_from_u64(seed_for(o.seed, 1, 0));
    let val = split_indices(real.len(), o.val_fraction, &mut rng);
    for (t, v) in real.iter_mut().zip(val) {
        t.info.split = if v { Split::Val } else { Split::Train };
    }
    // Procedural takes.
    let n_proc = (o.procedural_minutes * 60.0 / o.procedural.seconds.max(1.0)).ceil() as usize;
    let pb = bar(pb_show, n_proc as u64, "procedural");
    let mut procs = Vec::new();
    for i in 0..n_proc {
        let mut r = StdRng::seed_from_u64(seed_for(o.seed, 2, i as u64));
        let motion = procedural::generate(&ProceduralOptions { fps: FPS, ..o.procedural }, &mut r);
        procs.push(PlannedTake {
            info: TakeInfo {
                id: format!("procedural/{i:04}"),
                source: "procedural".into(),
                kind: TakeKind::Procedural,
                split: Split::Train,
                frames: motion.len(),
                minutes: minutes(&motion),
                clips: 0,
            },
            licence: "generated (mocapd)".into(),
            motion,
            augment: false,
            stride: o.procedural_stride,
        });
        pb.inc(1);
    }
    pb.finish_and_clear();
    let val = split_indices(procs.len(), o.val_fraction, &mut rng);
    for (t, v) in procs.iter_mut().zip(val) {
        t.info.split = if v { Split::Val } else { Split::Train };
    }
    // Mixes of training takes.
    let train_real: Vec<usize> = (0..real.len()).filter(|&i| real[i].info.split == Split::Train).collect();
    let mut mixes = Vec::new();
    if train_real.len() >= 2 {
        for i in 0..o.mixed_takes {
            // Weighted by length, so long takes are mixed as often as their minutes deserve.
            let total: usize = train_real.iter().map(|&i| real[i].motion.len()).sum();
            let pick = |rng: &mut StdRng| {
                let mut r = rng.random_range(0..total.max(1));
                for &i in &train_real {
                    if r < real[i].motion.len() {
                        return i;
                    }
                    r -= real[i].motion.len();
                }
                train_real[0]
            };
            let a = pick(&mut rng);
            let mut b = pick(&mut rng);
            if a == b {
                b = train_real[(train_real.iter().position(|&x| x == a).unwrap_or(0) + 1) % train_real.len()];
            }
            let la = canonicalize(&real[a].motion).map_err(|source| DataError::Motion { take: real[a].info.id.clone(), source })?;
            let ub = canonicalize(&real[b].motion).map_err(|source| DataError::Motion { take: real[b].info.id.clone(), source })?;
            let motion = procedural::mix(&la, &ub);
            let lic = if real[a].licence == real[b].licence {
                real[a].licence.clone()
            } else {
                format!("{}; {}", real[a].licence, real[b].licence)
            };
            mixes.push(PlannedTake {
                info: TakeInfo {
                    id: format!("mix/{i:03}:{}+{}", real[a].info.id, real[b].info.id),
                    source: "mixed".into(),
                    kind: TakeKind::Mixed,
                    split: Split::Train,
                    frames: motion.len(),
                    minutes: minutes(&motion),
                    clips: 0,
                },
                licence: lic,
                motion,
                augment: true,
                stride: o.stride,
            });
        }
    }
    let mut all = real;
    all.extend(procs);
    all.extend(mixes);
    Ok(all)
}

struct ShardWriter {
    dir: PathBuf,
    split: Split,
    size: usize,
    clip_len: usize,
    motion: Vec<f32>,
    pose: Vec<f32>,
    take: Vec<i64>,
    speed: Vec<f32>,
    mirrored: Vec<u8>,
    shards: Vec<ShardInfo>,
    bytes: u64,
}

impl ShardWriter {
    fn new(dir: &Path, split: Split, size: usize, clip_len: usize) -> Self {
        ShardWriter {
            dir: dir.to_path_buf(),
            split,
            size,
            clip_len,
            motion: Vec::new(),
            pose: Vec::new(),
            take: Vec::new(),
            speed: Vec::new(),
            mirrored: Vec::new(),
            shards: Vec::new(),
            bytes: 0,
        }
    }
    fn push(
        &mut self,
        motion: &[[f32; FEATURE_DIM]],
        pose: &[Frame2d],
        take: usize,
        speed: f32,
        mirrored: bool,
    ) -> Result<(), DataError> {
        self.motion.extend(motion.iter().flatten());
        self.pose.extend(pose.iter().flatten().flatten());
        self.take.push(take as i64);
        self.speed.push(speed);
        self.mirrored.push(mirrored as u8);
        if self.take.len() >= self.size {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), DataError> {
        let n = self.take.len();
        if n == 0 {
            return Ok(());
        }
        let dev = Device::Cpu;
        let l = self.clip_len;
        let mut map = HashMap::new();
        map.insert("motion", Tensor::from_vec(std::mem::take(&mut self.motion), (n, l, FEATURE_DIM), &dev)?);
        map.insert("pose2d", Tensor::from_vec(std::mem::take(&mut self.pose), (n, l, NUM_COCO, 3), &dev)?);
        map.insert("take", Tensor::from_vec(std::mem::take(&mut self.take), n, &dev)?);
        map.insert("speed", Tensor::from_vec(std::mem::take(&mut self.speed), n, &dev)?);
        map.insert("mirrored", Tensor::from_vec(std::mem::take(&mut self.mirrored), n, &dev)?);
        let file = format!("{}-{:05}.safetensors", self.split.name(), self.shards.len());
        let path = self.dir.join(&file);
        candle_core::safetensors::save(&map, &path)?;
        self.bytes += std::fs::metadata(&path).map_err(io(&path))?.len();
        self.shards.push(ShardInfo { file, split: self.split, samples: n });
        Ok(())
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
