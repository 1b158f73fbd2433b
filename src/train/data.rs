//! Training data in memory: the shards of one split of a built data set (`data::build`),
//! targets normalised with the manifest's train mean/std, and deterministic batches: the order
//! is a seeded shuffle per epoch, so batch k is a pure function of (seed, k) and resuming at
//! step k reproduces the uninterrupted run.
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::trainer::TrainError;
use crate::data::build::{Manifest, Split};

/// Smallest std used for normalising (features that never vary, e.g. a fixed joint).
pub const MIN_STD: f32 = 1e-2;

pub struct SplitData {
    /// Normalised targets, [n, frames, dim] row-major.
    motion: Vec<f32>,
    /// [n, frames, 17, 3].
    pose: Vec<f32>,
    pub n: usize,
    pub frames: usize,
    pub dim: usize,
    pub pose_dim: usize,
}

/// Mean and floored std from the manifest.
pub fn stats(m: &Manifest) -> (Vec<f32>, Vec<f32>) {
    let n = &m.normalization;
    (n.target_mean.clone(), n.target_std.iter().map(|s| if s.is_finite() { s.max(MIN_STD) } else { 1.0 }).collect())
}

fn flat(map: &std::collections::HashMap<String, Tensor>, key: &str, path: &Path) -> Result<(Vec<usize>, Vec<f32>), TrainError> {
    let t = map.get(key).ok_or_else(|| TrainError::Data(format!("{}: no `{key}` tensor", path.display())))?;
    let v = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    Ok((t.dims().to_vec(), v))
}

impl SplitData {
    pub fn load(dir: &Path, m: &Manifest, split: Split, mean: &[f32], std: &[f32]) -> Result<Self, TrainError> {
        let (frames, dim) = (m.clip_len, m.feature_dim);
        if mean.len() != dim || std.len() != dim {
            return Err(TrainError::Data(format!("manifest stats have {} dims, features {dim}", mean.len())));
        }
        let mut out = SplitData { motion: Vec::new(), pose: Vec::new(), n: 0, frames, dim, pose_dim: 0 };
        for sh in m.shards.iter().filter(|s| s.split == split) {
            let path = dir.join(&sh.file);
            let map = candle_core::safetensors::load(&path, &Device::Cpu)?;
            let (md, mut mv) = flat(&map, "motion", &path)?;
            let (pd, pv) = flat(&map, "pose2d", &path)?;
            if md.len() != 3 || md[1] != frames || md[2] != dim || pd.len() != 4 || pd[0] != md[0] || pd[1] != frames {
                return Err(TrainError::Data(format!("{}: motion {md:?} / pose2d {pd:?} do not match the manifest", path.display())));
            }
            for (i, x) in mv.iter_mut().enumerate() {
                let k = i % dim;
                *x = (*x - mean[k]) / std[k];
            }
            out.pose_dim = pd[2] * pd[3];
            out.n += md[0];
            out.motion.extend(mv);
            out.pose.extend(pv);
        }
        if out.n == 0 {
            return Err(TrainError::Data(format!("{}: no {} samples", dir.display(), split.name())));
        }
        Ok(out)
    }

    /// Sample order of one epoch.
    pub fn epoch_order(&self, seed: u64, epoch: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.n).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        idx.shuffle(&mut rng);
        idx
    }

    /// (normalised motion [B, len, dim], pose [B, len, 17, 3]) of samples `idx`, each window
    /// starting at `start[i]` (crop of `len` frames).
    pub fn batch(&self, idx: &[usize], start: &[usize], len: usize, dev: &Device) -> Result<(Tensor, Tensor), TrainError> {
        let b = idx.len();
        let mut mo = Vec::with_capacity(b * len * self.dim);
        let mut po = Vec::with_capacity(b * len * self.pose_dim);
        for (&i, &s) in idx.iter().zip(start) {
            if i >= self.n || s + len > self.frames {
                return Err(TrainError::Data(format!("sample {i} window {s}+{len} out of range")));
            }
            let f0 = i * self.frames + s;
            mo.extend_from_slice(&self.motion[f0 * self.dim..(f0 + len) * self.dim]);
            po.extend_from_slice(&self.pose[f0 * self.pose_dim..(f0 + len) * self.pose_dim]);
        }
        let motion = Tensor::from_vec(mo, (b, len, self.dim), dev)?;
        let pose = Tensor::from_vec(po, (b, len, self.pose_dim / 3, 3), dev)?;
        Ok((motion, pose))
    }
}
