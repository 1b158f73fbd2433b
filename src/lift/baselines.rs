//! The baselines of `mocapd eval`, scored on the evaluated frames by the same metrics as the
//! model: the constant mean pose ([`mean_pose`]: the training split's mean feature vector,
//! decoded) and a nearest-training-pose lookup ([`PoseLibrary`]: a non-parametric lifter that
//! answers each frame with the 3D pose of the training frame whose normalised 2D pose is
//! nearest). Both give root-relative poses; the evaluation puts them at the target's root
//! position, so that only the pose is compared.
//!
//! The lookup's library is a seeded random subset of the train split's frames (every view of
//! every window can be drawn): [`LIBRARY_CANDIDATES`] × the library size are drawn, and the first
//! of them, in draw order, whose 17 joints are all confident (score ≥ [`MIN_CONFIDENCE`]) make
//! the library. The distance is the squared 2D distance (x, y of the `pose2d` conditions) over
//! the query frame's confident joints, the same joints on both sides; a frame with no confident
//! joint gets the mean pose. Search: `Σ m(|b|² − 2a·b)` as one matrix product per block of
//! queries and library frames (candle on the CPU), then a row-wise minimum over threads.
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Storage, Tensor};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::eval::EvalError;
use super::metrics::Joints;
use crate::data::build::{bar, Manifest, Split};
use crate::data::error::io;
use crate::data::DataError;
use crate::motion::codec::{decode_frame, FEATURE_DIM};
use crate::skeleton::rotation::{add, Quat, Vec3};
use crate::skeleton::smpl::NUM_JOINTS;
use crate::skeleton::smpl_fk;

/// Joints whose score is at least this count as seen (the model's `conf_threshold` too).
pub const MIN_CONFIDENCE: f32 = 0.3;
/// Library frames of the lookup by default.
pub const LIBRARY_FRAMES: usize = 100_000;
/// Frames drawn per library frame (about 55 % of training frames have every joint confident).
pub const LIBRARY_CANDIDATES: usize = 2;
const JOINTS: usize = 17;
const KEY: usize = JOINTS * 3;
const QUERY_BLOCK: usize = 256;
const LIBRARY_BLOCK: usize = 4096;

/// The root-relative joints of a pose (pelvis at the origin).
pub fn root_relative(rotations: &[Quat; NUM_JOINTS]) -> Joints {
    smpl_fk(rotations, [0.0; 3])
}

/// Root-relative joints moved to `root`.
pub fn at_root(rel: &Joints, root: Vec3) -> Joints {
    rel.map(|p| add(p, root))
}

/// The constant mean pose: the data set's train mean feature vector (manifest
/// `normalization.target_mean`) decoded to a frame, root-relative.
pub fn mean_pose(manifest: &Manifest, data: &Path) -> Result<Joints, EvalError> {
    let mean = &manifest.normalization.target_mean;
    if mean.len() != FEATURE_DIM {
        return Err(DataError::BadDataset {
            path: data.join("manifest.json"),
            reason: format!("normalization.target_mean has {} values, expected {FEATURE_DIM}", mean.len()),
        }
        .into());
    }
    Ok(root_relative(&decode_frame(mean).rotations))
}

/// How the lookup's library was drawn (for the report).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LibraryInfo {
    /// Library frames (all joints confident).
    pub frames: usize,
    /// Training frames drawn (seeded) to find them.
    pub drawn: usize,
    /// Frames in the train split.
    pub train_frames: usize,
    pub min_confidence: f32,
    pub seed: u64,
    pub seconds: f64,
}

/// The nearest-training-pose lifter (see the module docs).
pub struct PoseLibrary {
    /// Library keys per joint `[|b|², −2x, −2y]`, in blocks `[KEY, ≤ LIBRARY_BLOCK]`.
    keys: Vec<Tensor>,
    /// Root-relative 3D joints of each library frame.
    poses: Vec<Joints>,
    pub info: LibraryInfo,
}

/// One shard's `motion` and `pose2d` byte offsets, read frame by frame.
struct ShardRows {
    file: File,
    path: PathBuf,
    motion: u64,
    pose: u64,
}

impl ShardRows {
    fn open(path: PathBuf, samples: usize, clip_len: usize) -> Result<Self, EvalError> {
        let file = File::open(&path).map_err(io(&path))?;
        let bad = |reason: String| EvalError::from(DataError::BadDataset { path: path.clone(), reason });
        let mut len = [0u8; 8];
        file.read_exact_at(&mut len, 0).map_err(io(&path))?;
        let n = u64::from_le_bytes(len);
        if n > 100_000_000 {
            return Err(bad("not a safetensors file".into()));
        }
        let mut header = vec![0u8; n as usize];
        file.read_exact_at(&mut header, 8).map_err(io(&path))?;
        let header: serde_json::Value = serde_json::from_slice(&header).map_err(|e| bad(format!("safetensors header: {e}")))?;
        let offset = |name: &str, shape: &[usize]| -> Result<u64, EvalError> {
            let t = &header[name];
            let got: Vec<usize> =
                t["shape"].as_array().map(|a| a.iter().filter_map(|v| v.as_u64()).map(|v| v as usize).collect()).unwrap_or_default();
            if t["dtype"] != "F32" || got != shape {
                return Err(bad(format!("`{name}` is {} {got:?}, expected F32 {shape:?}", t["dtype"])));
            }
            Ok(8 + n + t["data_offsets"][0].as_u64().ok_or_else(|| bad(format!("`{name}` has no data offsets")))?)
        };
        let motion = offset("motion", &[samples, clip_len, FEATURE_DIM])?;
        let pose = offset("pose2d", &[samples, clip_len, JOINTS, 3])?;
        Ok(Self { file, path, motion, pose })
    }

    fn read(&self, at: u64, out: &mut [f32]) -> Result<(), EvalError> {
        let mut bytes = vec![0u8; out.len() * 4];
        self.file.read_exact_at(&mut bytes, at).map_err(io(&self.path))?;
        for (v, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Ok(())
    }
}

impl PoseLibrary {
    /// Draws the library from the train split of the data set in `data` (see the module docs);
    /// `None` when the split has no frame.
    pub fn build(data: &Path, manifest: &Manifest, size: usize, seed: u64, progress: bool) -> Result<Option<Self>, EvalError> {
        let t0 = Instant::now();
        let s = manifest.clip_len;
        let shards: Vec<_> = manifest.shards.iter().filter(|sh| sh.split == Split::Train && sh.samples > 0).collect();
        let total: usize = shards.iter().map(|sh| sh.samples * s).sum();
        if total == 0 || size == 0 {
            return Ok(None);
        }
        let files = shards.iter().map(|sh| ShardRows::open(data.join(&sh.file), sh.samples, s)).collect::<Result<Vec<_>, _>>()?;
        let starts: Vec<usize> = shards.iter().scan(0, |acc, sh| Some(std::mem::replace(acc, *acc + sh.samples * s))).collect();
        let locate = |g: usize| {
            let k = starts.partition_point(|&st| st <= g) - 1;
            (k, (g - starts[k]) as u64)
        };
        let mut rng = StdRng::seed_from_u64(seed ^ 0x6e6e_6c6f_6f6b_7570);
        let drawn = rand::seq::index::sample(&mut rng, total, (size * LIBRARY_CANDIDATES).min(total)).into_vec();
        let mut by_place: Vec<usize> = (0..drawn.len()).collect();
        by_place.sort_unstable_by_key(|&i| drawn[i]);
        let pb = bar(progress, drawn.len() as u64, "NN library: reading training frames");
        let mut pose2d = vec![[0.0f32; KEY]; drawn.len()];
        for (n, &i) in by_place.iter().enumerate() {
            let (k, f) = locate(drawn[i]);
            files[k].read(files[k].pose + f * (KEY as u64) * 4, &mut pose2d[i])?;
            if n % 4096 == 0 {
                pb.set_position(n as u64);
            }
        }
        pb.finish_and_clear();
        let complete =
            |p: &[f32; KEY]| (0..JOINTS).all(|j| p[3 * j + 2] >= MIN_CONFIDENCE && p[3 * j..3 * j + 2].iter().all(|v| v.is_finite()));
        let mut chosen: Vec<usize> = (0..drawn.len()).filter(|&i| complete(&pose2d[i])).take(size).collect();
        chosen.sort_unstable_by_key(|&i| drawn[i]);
        let mut poses = Vec::with_capacity(chosen.len());
        let mut keys = Vec::with_capacity(chosen.len() * KEY);
        let mut features = [0.0f32; FEATURE_DIM];
        for &i in &chosen {
            let (k, f) = locate(drawn[i]);
            files[k].read(files[k].motion + f * (FEATURE_DIM as u64) * 4, &mut features)?;
            poses.push(root_relative(&decode_frame(&features).rotations));
            let p = &pose2d[i];
            for j in 0..JOINTS {
                let (x, y) = (p[3 * j], p[3 * j + 1]);
                keys.extend([x * x + y * y, -2.0 * x, -2.0 * y]);
            }
        }
        if poses.is_empty() {
            return Ok(None);
        }
        let all = Tensor::from_vec(keys, (poses.len(), KEY), &Device::Cpu)?;
        let blocks = (0..poses.len())
            .step_by(LIBRARY_BLOCK)
            .map(|at| all.narrow(0, at, LIBRARY_BLOCK.min(poses.len() - at))?.t()?.contiguous())
            .collect::<candle_core::Result<Vec<_>>>()?;
        let info = LibraryInfo {
            frames: poses.len(),
            drawn: drawn.len(),
            train_frames: total,
            min_confidence: MIN_CONFIDENCE,
            seed,
            seconds: t0.elapsed().as_secs_f64(),
        };
        Ok(Some(Self { keys: blocks, poses, info }))
    }

    /// The root-relative 3D pose of library frame `i`.
    pub fn pose(&self, i: usize) -> &Joints {
        &self.poses[i]
    }

    pub fn len(&self) -> usize {
        self.poses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.poses.is_empty()
    }

    /// For each query frame (`pose2d` rows of 17 × (x, y, score)), the library frame nearest over
    /// its confident joints; `None` for a frame with no confident joint.
    pub fn nearest(&self, pose2d: &[f32]) -> Result<Vec<Option<usize>>, EvalError> {
        let n = pose2d.len() / KEY;
        let mut out = Vec::with_capacity(n);
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8);
        for at in (0..n).step_by(QUERY_BLOCK) {
            let rows = QUERY_BLOCK.min(n - at);
            let mut q = Vec::with_capacity(rows * KEY);
            let mut seen = vec![false; rows];
            for (r, p) in pose2d[at * KEY..(at + rows) * KEY].chunks_exact(KEY).enumerate() {
                for j in 0..JOINTS {
                    let m = p[3 * j + 2] >= MIN_CONFIDENCE && p[3 * j].is_finite() && p[3 * j + 1].is_finite();
                    seen[r] |= m;
                    let m = f32::from(u8::from(m));
                    q.extend([m, m * p[3 * j], m * p[3 * j + 1]]);
                }
            }
            let q = Tensor::from_vec(q, (rows, KEY), &Device::Cpu)?;
            let mut best = vec![(f32::INFINITY, 0usize); rows];
            let mut first = 0;
            for block in &self.keys {
                let d = q.matmul(block)?;
                let cols = block.dim(1)?;
                let (storage, layout) = d.storage_and_layout();
                let Storage::Cpu(cpu) = &*storage else {
                    return Err(EvalError::Mismatch("the lookup's distances are not on the CPU".into()));
                };
                let values = &cpu.as_slice::<f32>()?[layout.start_offset()..layout.start_offset() + rows * cols];
                let per = rows.div_ceil(threads);
                std::thread::scope(|sc| {
                    for (vals, best) in values.chunks(per * cols).zip(best.chunks_mut(per)) {
                        sc.spawn(move || {
                            for (row, b) in vals.chunks_exact(cols).zip(best.iter_mut()) {
                                let (mut v, mut i) = (f32::INFINITY, 0);
                                for (k, &x) in row.iter().enumerate() {
                                    if x < v {
                                        (v, i) = (x, k);
                                    }
                                }
                                if v < b.0 {
                                    *b = (v, first + i);
                                }
                            }
                        });
                    }
                });
                first += cols;
            }
            out.extend(best.iter().zip(&seen).map(|(&(_, i), &s)| s.then_some(i)));
        }
        Ok(out)
    }
}
