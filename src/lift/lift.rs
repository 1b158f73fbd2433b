//! Offline lifting of a keypoint file to SMPL-24 motion (seed
//! `/work/shared/seeds/000_2089a3e28466b77a.txt` §3.3 sampling, §3.5 (iii) in-filling).
//!
//! Overlapping windows of the checkpoint's S frames (150) every `hop` frames (default 100, so
//! 50 frames overlap; the last window is padded by holding the last frame). Each window's 2D
//! keypoints are normalised with `data::cond2d::normalize_sequence` (as in training) and sampled
//! with DDIM (η = 0). Every window after the first in-fills its overlap with the frames already
//! produced: those frames are moved into the window's canonical placement (the first overlap
//! frame faces +Z, root over the origin, as the model was trained), normalised with the
//! checkpoint stats, imposed with mask b = 1 (x ← b ⊙ q(x_known, t) + (1 − b) ⊙ x̂), and the
//! result is moved back, so windows stitch seamlessly and the root stays continuous. Output
//! lives in the first window's canonical frame.
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::bvh_out::to_bvh;
use super::decode::{decode, encode, keep_sign, Normalizer, Placement, Pose};
use super::format::{write_motion, MotionFileError, MotionFrame, MotionHeader};
use super::input::{padded, performer_track, window_starts, Track2d};
use crate::data::bvh_write::{self, BvhWriteError};
use crate::data::cond2d::{normalize_sequence, Frame2d};
use crate::diffusion::{randn, NoiseSchedule};
use crate::model::onnx::{Engine, OnnxDenoiser, OnnxError};
use crate::model::{load_checkpoint, Checkpoint, CheckpointError, Denoiser, ModelConfig};
use crate::pose::record::{KeypointReader, RecordError};
use crate::sampler::{sample, Ddim, Infill, InfillMode, ModelX0, SampleOptions, X0Model};

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

/// Default checkpoint path.
pub const DEFAULT_CHECKPOINT: &str = "models/mocapd-small.safetensors";

#[derive(Debug, Clone, PartialEq)]
pub struct LiftOptions {
    pub checkpoint: PathBuf,
    /// DDIM steps.
    pub steps: usize,
    /// Classifier-free guidance weight (0 = conditional only).
    pub guidance: f64,
    /// Window hop in frames (1..=S); overlap = S − hop.
    pub hop: usize,
    /// Seed of the sampling noise.
    pub seed: u64,
    /// Contact outputs above this are contacts.
    pub contact_threshold: f32,
    /// Progress bar over windows (stderr).
    pub progress: bool,
    /// Which engine runs the denoiser's per-step forward.
    pub engine: Engine,
}

impl Default for LiftOptions {
    fn default() -> Self {
        Self {
            checkpoint: DEFAULT_CHECKPOINT.into(),
            steps: 8,
            guidance: 0.0,
            hop: 100,
            seed: 0,
            contact_threshold: 0.5,
            progress: false,
            engine: Engine::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiftError {
    #[error("no model at {}: train one with `mocapd train` or pass --checkpoint", path.display())]
    NoModel { path: PathBuf },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Keypoints(#[from] RecordError),
    #[error("keypoint file {}: no frames", path.display())]
    NoFrames { path: PathBuf },
    #[error("checkpoint {path}: {msg}")]
    Incompatible { path: PathBuf, msg: String },
    #[error("bad lift options: {0}")]
    BadOptions(String),
    #[error("model: {0}")]
    Model(#[from] candle_core::Error),
    #[error(transparent)]
    Engine(#[from] OnnxError),
    #[error(transparent)]
    Motion(#[from] MotionFileError),
    #[error(transparent)]
    Bvh(#[from] BvhWriteError),
    #[error("output {}: unknown extension (use .jsonl or .bvh)", path.display())]
    OutputKind { path: PathBuf },
}

/// What a lift did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LiftReport {
    pub out: PathBuf,
    pub frames: usize,
    pub inferred_frames: usize,
    pub windows: usize,
    pub fps: f64,
    /// The fallback performer track id (most frequent).
    pub performer: Option<u32>,
    pub seconds: f64,
    pub windows_per_second: f64,
}

/// One window's output (world frame, de-normalised features), for inspection and tests.
#[derive(Debug, Clone)]
pub struct WindowTrace {
    pub start: usize,
    /// Features of the window's frames that fall inside the input.
    pub features: Vec<Vec<f32>>,
}

/// A lifted sequence.
#[derive(Debug, Clone)]
pub struct Lifted {
    pub frames: Vec<MotionFrame>,
    pub windows: Vec<WindowTrace>,
}

/// A loaded denoiser ready to lift.
pub struct Lifter {
    pub model: Denoiser,
    pub config: ModelConfig,
    pub norm: Normalizer,
    pub sched: Ddim,
    /// The per-step forward on ONNX Runtime ([`Engine::OnnxRuntime`]); `None` runs candle.
    onnx: Option<OnnxDenoiser>,
    dev: Device,
}

impl Lifter {
    /// Loads a `mocapd.denoiser/1` checkpoint; a missing file gives [`LiftError::NoModel`].
    pub fn load(path: &Path) -> Result<Self, LiftError> {
        if !path.is_file() {
            return Err(LiftError::NoModel { path: path.into() });
        }
        let dev = Device::Cpu;
        let ck = load_checkpoint(path, &dev)?;
        Self::new(ck, path)
    }

    pub fn new(ck: Checkpoint, path: &Path) -> Result<Self, LiftError> {
        let c = &ck.config;
        if c.motion_dim != crate::data::features::FEATURE_DIM || c.pose_joints != 17 {
            return Err(LiftError::Incompatible {
                path: path.into(),
                msg: format!("motion_dim {} / pose_joints {} (need 151 / 17)", c.motion_dim, c.pose_joints),
            });
        }
        if ck.stats.is_none() {
            tracing::warn!("checkpoint {} has no motion stats; using identity normalisation", path.display());
        }
        let norm = Normalizer::from_stats(ck.stats.as_ref(), c.motion_dim);
        let dev = Device::Cpu;
        Ok(Self { model: ck.model, config: ck.config, norm, sched: Ddim::new(NoiseSchedule::seed_default(&dev)?, 0.0), onnx: None, dev })
    }

    /// Runs the denoiser's per-step forward on `engine`; ONNX Runtime is loaded from `library`,
    /// else `ORT_DYLIB_PATH`, else `.local/onnxruntime/` (a missing library is an error).
    pub fn with_engine(mut self, engine: Engine, library: Option<&Path>) -> Result<Self, LiftError> {
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
    /// canonical frame (`Placement::canonical_for` the first known frame, or the previous
    /// output's last frame when nothing is known, so the root stays continuous). `noise`: the
    /// window's per-frame noise (x_T of every frame, and the fixed noise of q(x_known, t) for the
    /// known ones), so overlapping windows start the frames they share alike. Shared by the
    /// offline lifter and the live pipeline.
    pub fn sample_window(
        &self,
        kp: &[Frame2d],
        known: &[Vec<f32>],
        place: Placement,
        steps: usize,
        guidance: f64,
        noise: FrameNoise,
    ) -> Result<Vec<Vec<f32>>, LiftError> {
        let (s, d) = (self.frames(), self.config.motion_dim);
        if kp.len() != s || known.len() > s {
            return Err(LiftError::BadOptions(format!("window of {} frames with {} known; the model takes {s}", kp.len(), known.len())));
        }
        let flat: Vec<f32> = normalize_sequence(kp).iter().flatten().flatten().copied().collect();
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
                let c = encode(&place.to_canonical(&decode(f)));
                kn[j * d..(j + 1) * d].copy_from_slice(&self.norm.normalize(&c));
                mask[j] = 1.0;
            }
            let kn = Tensor::from_vec(kn, (1, s, d), &self.dev)?;
            let mask = Tensor::from_vec(mask, (1, s), &self.dev)?;
            let inf = Infill { known: &kn, mask: &mask, mode: InfillMode::Renoise, noise: Some(&x_t) };
            self.sample_from(&pose, x_t.clone(), steps, guidance, Some(inf), &mut rng)?
        };
        let z = out.squeeze(0)?.to_vec2::<f32>()?;
        Ok(z.iter().map(|zf| encode(&place.to_world(&decode(&self.norm.denormalize(zf))))).collect())
    }

    /// Lifts a performer track (see the module docs).
    pub fn lift_track(&self, track: &Track2d, opts: &LiftOptions) -> Result<Lifted, LiftError> {
        let s = self.frames();
        if opts.hop == 0 || opts.hop > s {
            return Err(LiftError::BadOptions(format!("hop {} must be in 1..={s}", opts.hop)));
        }
        if opts.steps == 0 {
            return Err(LiftError::BadOptions("steps must be at least 1".into()));
        }
        let n = track.len();
        if n == 0 {
            return Ok(Lifted { frames: vec![], windows: vec![] });
        }
        let starts = window_starts(n, s, opts.hop);
        let pb = if opts.progress { ProgressBar::new(starts.len() as u64) } else { ProgressBar::hidden() };
        if let Ok(st) = ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} windows ({elapsed}, eta {eta})") {
            pb.set_style(st.progress_chars("=> "));
        }
        pb.set_message("lift");
        let mut world: Vec<Vec<f32>> = Vec::with_capacity(n);
        let mut windows = Vec::with_capacity(starts.len());
        for &start in &starts {
            let kp = padded(&track.keypoints, start, s);
            let known_n = world.len().saturating_sub(start).min(s);
            let place = if known_n > 0 { Placement::canonical_for(&decode(&world[start])) } else { Placement::IDENTITY };
            let z = self.sample_window(
                &kp,
                &world[start..start + known_n],
                place,
                opts.steps,
                opts.guidance,
                FrameNoise { seed: opts.seed, first: start as u64 },
            )?;
            let inside = s.min(n - start);
            let feats: Vec<Vec<f32>> = z[..inside].to_vec();
            for (j, f) in feats.iter().enumerate().skip(known_n) {
                debug_assert_eq!(world.len(), start + j);
                world.push(f.clone());
            }
            windows.push(WindowTrace { start, features: feats });
            pb.inc(1);
        }
        pb.finish_and_clear();
        let mut frames = Vec::with_capacity(n);
        let mut prev: Option<[crate::skeleton::Quat; 24]> = None;
        for (i, f) in world.iter().enumerate() {
            let mut p: Pose = decode(f);
            if let Some(pq) = &prev {
                keep_sign(pq, &mut p.rotations);
            }
            prev = Some(p.rotations);
            frames.push(MotionFrame {
                frame: track.frame[i],
                t: track.t[i],
                root: p.root,
                rotations: p.rotations,
                joints: p.joints(),
                contacts: p.contacts.map(|c| c > opts.contact_threshold),
                contact_scores: Some(p.contacts),
                inferred: !track.seen[i],
            });
        }
        Ok(Lifted { frames, windows })
    }
}

/// Reads a keypoint file and picks the performer.
pub fn read_track(input: &Path) -> Result<Track2d, LiftError> {
    let (header, frames) = KeypointReader::open(input)?.read_all()?;
    if frames.is_empty() {
        return Err(LiftError::NoFrames { path: input.into() });
    }
    Ok(performer_track(header, &frames))
}

/// Writes frames as `.jsonl` (mocapd.motion/1) or `.bvh`, by the extension of `out`.
pub fn write_output(out: &Path, frames: &[MotionFrame], fps: f64) -> Result<(), LiftError> {
    match out.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("jsonl") | Some("json") => Ok(write_motion(out, &MotionHeader::smpl24(fps), frames)?),
        Some("bvh") => {
            if let Some(f) = frames.iter().find_map(|f| f.problem().map(|p| (f.frame, p))) {
                return Err(MotionFileError::NotFinite { path: out.into(), frame: f.0, problem: f.1 }.into());
            }
            Ok(bvh_write::write(&to_bvh(frames, fps), out)?)
        }
        _ => Err(LiftError::OutputKind { path: out.into() }),
    }
}

/// Lifts the keypoint file `input` to `out` (`.jsonl` mocapd.motion/1 or `.bvh`).
pub fn lift(input: &Path, out: &Path, opts: &LiftOptions) -> Result<LiftReport, LiftError> {
    let ext_ok =
        matches!(out.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref(), Some("jsonl" | "json" | "bvh"));
    if !ext_ok {
        return Err(LiftError::OutputKind { path: out.into() });
    }
    let lifter = Lifter::load(&opts.checkpoint)?.with_engine(opts.engine, None)?;
    let track = read_track(input)?;
    let t0 = Instant::now();
    let lifted = lifter.lift_track(&track, opts)?;
    let seconds = t0.elapsed().as_secs_f64();
    let fps = track.header.fps;
    write_output(out, &lifted.frames, fps)?;
    Ok(LiftReport {
        out: out.into(),
        frames: lifted.frames.len(),
        inferred_frames: lifted.frames.iter().filter(|f| f.inferred).count(),
        windows: lifted.windows.len(),
        fps,
        performer: track.fallback_id,
        seconds,
        windows_per_second: lifted.windows.len() as f64 / seconds.max(1e-9),
    })
}
