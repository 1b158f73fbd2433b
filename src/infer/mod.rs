//! The inference core shared by the daemon and the offline commands: [`Lifter`], a loaded
//! `mocapd.denoiser/1` checkpoint (candle, with the per-step forward on ONNX Runtime by default)
//! that samples one window of SMPL-24 motion from 2D keypoints with few-step DDIM and in-filling
//! (ViMo §3.3 sampling, §3.5 (iii) in-filling), and [`FrameNoise`], the per-frame sampling noise
//! that lets overlapping windows agree.
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use crate::diffusion::{randn, NoiseSchedule};
use crate::model::onnx::{Engine, OnnxDenoiser, OnnxError};
use crate::model::{load_checkpoint, Checkpoint, CheckpointError, Denoiser, ModelConfig};
use crate::motion::codec::{decode_frame, encode_frame, FEATURE_DIM};
use crate::motion::{normalize_sequence, Contract, Frame2d, Normalizer, Placement};
use crate::sampler::{sample, Ddim, Infill, InfillMode, ModelX0, SampleOptions, X0Model};

/// The bundled default checkpoint, relative to the repository root (found from elsewhere by
/// [`Lifter::load`]).
pub const DEFAULT_CHECKPOINT: &str = "models/mocapd-small.safetensors";

/// One frame's world-frame features.
pub type Features = [f32; FEATURE_DIM];

/// Why a model could not be loaded or sampled.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// No checkpoint file: `looked` lists where the default checkpoint was searched (`None`: a
    /// path given by the user, taken as given).
    #[error(
        "no model at {}{}: name a checkpoint written by `mocapd train` with pipeline.checkpoint in the config (`run`, `bench`) or --checkpoint (`lift`, `eval`)",
        path.display(),
        looked.as_ref().map(|l| format!(" (looked in: {l})")).unwrap_or_default()
    )]
    NoModel { path: PathBuf, looked: Option<crate::assets::Looked> },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("checkpoint {path}: {msg}")]
    Incompatible { path: PathBuf, msg: String },
    #[error("bad window: {0}")]
    BadWindow(String),
    #[error("model: {0}")]
    Model(#[from] candle_core::Error),
    #[error(transparent)]
    Engine(#[from] OnnxError),
}

/// The sampling noise of a window whose first frame is absolute frame `first`: each frame's
/// noise depends only on `seed` and its absolute index, so windows that overlap (offline hops,
/// streaming updates) start the frames they share from the same noise and agree more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameNoise {
    pub seed: u64,
    pub first: u64,
}

impl FrameNoise {
    /// Standard normal noise of `frames` frames of `dim` features, frame-major.
    pub fn values(&self, frames: usize, dim: usize) -> Vec<f32> {
        (self.first..self.first + frames as u64)
            .flat_map(|i| {
                let mut key = [0u8; 32];
                key[..8].copy_from_slice(&self.seed.to_le_bytes());
                key[8..16].copy_from_slice(&i.to_le_bytes());
                let mut rng = StdRng::from_seed(key);
                (0..dim).map(move |_| rng.sample::<f32, _>(StandardNormal))
            })
            .collect()
    }
}

/// A loaded denoiser ready to lift.
pub struct Lifter {
    pub model: Denoiser,
    pub config: ModelConfig,
    pub norm: Normalizer,
    pub sched: Ddim,
    /// The motion contract of the checkpoint (its 2D scale and window placement).
    pub contract: Contract,
    /// The per-step forward on ONNX Runtime ([`Engine::OnnxRuntime`]); `None` runs candle.
    onnx: Option<OnnxDenoiser>,
    dev: Device,
}

impl Lifter {
    /// Loads a `mocapd.denoiser/1` checkpoint; a missing file gives [`InferError::NoModel`].
    /// The default path ([`DEFAULT_CHECKPOINT`]) is found like the other bundled files
    /// ([`crate::assets::locate`]: working directory, beside the executable, install prefix).
    pub fn load(path: &Path) -> Result<Self, InferError> {
        let path = if path.is_file() {
            path.to_path_buf()
        } else if path == Path::new(DEFAULT_CHECKPOINT) {
            crate::assets::locate(path).map_err(|looked| InferError::NoModel { path: path.into(), looked: Some(looked) })?
        } else {
            return Err(InferError::NoModel { path: path.into(), looked: None });
        };
        let dev = Device::Cpu;
        let ck = load_checkpoint(&path, &dev)?;
        Self::new(ck, &path)
    }

    pub fn new(ck: Checkpoint, path: &Path) -> Result<Self, InferError> {
        let c = &ck.config;
        if c.motion_dim != FEATURE_DIM || c.pose_joints != 17 {
            return Err(InferError::Incompatible {
                path: path.into(),
                msg: format!("motion_dim {} / pose_joints {} (need 151 / 17)", c.motion_dim, c.pose_joints),
            });
        }
        if ck.stats.is_none() {
            tracing::warn!("checkpoint {} has no motion stats; using identity normalisation", path.display());
        }
        let contract = match ck.contract.as_deref() {
            None => Contract::FirstFrame,
            Some(name) => name.parse().map_err(|msg| InferError::Incompatible { path: path.into(), msg })?,
        };
        let norm = Normalizer::from_stats(ck.stats.as_ref().map(|s| &s.mean[..]), ck.stats.as_ref().map(|s| &s.std[..]), c.motion_dim);
        let dev = Device::Cpu;
        Ok(Self {
            model: ck.model,
            config: ck.config,
            norm,
            sched: Ddim::new(NoiseSchedule::seed_default(&dev)?, 0.0),
            contract,
            onnx: None,
            dev,
        })
    }

    /// Runs the denoiser's per-step forward on `engine`; ONNX Runtime is loaded from `library`,
    /// else `ORT_DYLIB_PATH`, else `.local/onnxruntime/` (a missing library is an error).
    pub fn with_engine(mut self, engine: Engine, library: Option<&Path>) -> Result<Self, InferError> {
        self.onnx = match engine {
            Engine::Candle => None,
            Engine::OnnxRuntime => Some(OnnxDenoiser::new(&self.model, library)?),
        };
        Ok(self)
    }

    pub fn engine(&self) -> Engine {
        if self.onnx.is_some() {
            Engine::OnnxRuntime
        } else {
            Engine::Candle
        }
    }

    /// The placement of a window whose first in-filled frame is `first` (under the checkpoint's
    /// contract, see [`Placement::for_window`]).
    pub fn placement(&self, first: &crate::motion::MotionFrame) -> Placement {
        Placement::for_window(self.contract, first)
    }

    pub fn frames(&self) -> usize {
        self.config.frames
    }

    /// Samples a batch of windows: `pose` [B, S, 17, 3] (normalised keypoints), optional
    /// in-filling in model space. Returns model-space x̂0 [B, S, 151].
    pub fn sample_model_space(
        &self,
        pose: &Tensor,
        steps: usize,
        guidance: f64,
        infill: Option<Infill>,
        rng: &mut StdRng,
    ) -> candle_core::Result<Tensor> {
        let (b, s) = (pose.dim(0)?, pose.dim(1)?);
        let x_t = randn(rng, (b, s, self.config.motion_dim), &self.dev)?;
        self.sample_from(pose, x_t, steps, guidance, infill, rng)
    }

    /// The reverse process from the noise `x_t` [B, S, 151] (see [`Self::sample_model_space`]).
    fn sample_from(
        &self,
        pose: &Tensor,
        x_t: Tensor,
        steps: usize,
        guidance: f64,
        infill: Option<Infill>,
        rng: &mut StdRng,
    ) -> candle_core::Result<Tensor> {
        let m: ModelX0 = if guidance != 0.0 { ModelX0::guided(&self.model, pose)? } else { ModelX0::new(&self.model, pose)? };
        let m = match &self.onnx {
            Some(o) => m.on_onnx(o),
            None => m,
        };
        sample(&m as &dyn X0Model, &self.sched, x_t, &SampleOptions { steps, guidance, infill }, rng)
    }

    /// Samples one window of `S` frames of pixel keypoints (`kp`, missing frames all zero) and
    /// returns world-frame features for every frame. The first `known.len()` frames are in-filled
    /// from `known` (world-frame features already produced); `place` maps world ↔ the window's
    /// frame ([`Self::placement`] of the first known frame, or of the previous output's last
    /// frame when nothing is known, so the root stays continuous). `noise`: the
    /// window's per-frame noise (x_T of every frame, and the fixed noise of q(x_known, t) for the
    /// known ones), so overlapping windows start the frames they share alike. Shared by the
    /// offline lifter and the live pipeline.
    pub fn sample_window(
        &self,
        kp: &[Frame2d],
        known: &[Features],
        place: Placement,
        steps: usize,
        guidance: f64,
        noise: FrameNoise,
    ) -> Result<Vec<Features>, InferError> {
        let (s, d) = (self.frames(), self.config.motion_dim);
        if kp.len() != s || known.len() > s {
            return Err(InferError::BadWindow(format!("window of {} frames with {} known; the model takes {s}", kp.len(), known.len())));
        }
        let flat: Vec<f32> = normalize_sequence(kp, self.contract).iter().flatten().flatten().copied().collect();
        let pose = Tensor::from_vec(flat, (1, s, 17, 3), &self.dev)?;
        let x_t = Tensor::from_vec(noise.values(s, d), (1, s, d), &self.dev)?;
        // DDIM here is η = 0: nothing else draws from this RNG.
        let mut rng = StdRng::seed_from_u64(noise.seed ^ noise.first.rotate_left(32));
        let out = if known.is_empty() {
            self.sample_from(&pose, x_t, steps, guidance, None, &mut rng)?
        } else {
            let mut kn = vec![0.0f32; s * d];
            let mut mask = vec![0.0f32; s];
            for (j, f) in known.iter().enumerate() {
                let c = encode_frame(&place.to_canonical(&decode_frame(f)));
                kn[j * d..(j + 1) * d].copy_from_slice(&self.norm.normalize(&c));
                mask[j] = 1.0;
            }
            let kn = Tensor::from_vec(kn, (1, s, d), &self.dev)?;
            let mask = Tensor::from_vec(mask, (1, s), &self.dev)?;
            let inf = Infill { known: &kn, mask: &mask, mode: InfillMode::Renoise, noise: Some(&x_t) };
            self.sample_from(&pose, x_t.clone(), steps, guidance, Some(inf), &mut rng)?
        };
        let z = out.squeeze(0)?.to_vec2::<f32>()?;
        Ok(z.iter().map(|zf| encode_frame(&place.to_world(&decode_frame(&self.norm.denormalize(zf))))).collect())
    }
}

#[cfg(test)]
mod tests;
