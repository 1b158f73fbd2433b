//! Evaluation of a checkpoint: (a) held-out takes (the val shards of a built data set, whose
//! `pose2d` are already the noisy normalised conditions) sampled window by window and compared
//! with their `motion` targets; or (b) a `mocapd.motion/1` ground-truth file paired with a
//! keypoint file, lifted as `mocapd lift` would and compared frame by frame (frames matched by
//! number; frames the lifter marked inferred are skipped; both sequences are put in their own
//! canonical placement (first compared frame faces +Z, root over the origin) before comparing).
//! Metrics in [`super::metrics`].
//!
//! Frame rate (mode b): the offline lift works at the model's 30 fps and answers at the keypoint
//! file's own times ([`lift_track`]), so a 60 or 25 fps file is compared frame by frame like a
//! 30 fps one. Through the streaming path, the file is thinned the way the daemon thins its
//! input ([`Track2d::decimate`]: a faster file to about 30 fps, a slower one as it is) and only
//! the frames kept are compared.
//!
//! [`eval_with`] can lift each sequence through another path instead (the daemon's streaming
//! loop: `pipeline::stream_eval`), keeping everything else (data, ground truth, metrics) equal.
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::metrics::{metrics, Joints, Metrics};
use super::offline::{check_sampling, lift_track, read_track, LiftError, LiftOptions};
use crate::data::build::{read_manifest, Split};
use crate::data::DataError;
use crate::infer::{InferError, Lifter, DEFAULT_CHECKPOINT};
use crate::model::onnx::Engine;
use crate::motion::codec::decode_frame;
use crate::motion::{read_motion, Frame2d, MotionFileError, MotionFrame, Placement};
use crate::pose::performer::Track2d;
use crate::pose::record::Header;

#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    pub checkpoint: PathBuf,
    /// Built data set (mode a).
    pub data: PathBuf,
    /// Ground-truth motion file and its keypoint file (mode b); overrides `data`.
    pub gt: Option<(PathBuf, PathBuf)>,
    pub steps: usize,
    pub guidance: f64,
    /// Evaluate at most this many val windows (0 = all).
    pub max_windows: usize,
    /// Windows sampled together (mode a).
    pub batch: usize,
    pub seed: u64,
    pub progress: bool,
    /// Which engine runs the denoiser's per-step forward.
    pub engine: Engine,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            checkpoint: DEFAULT_CHECKPOINT.into(),
            data: "data/train".into(),
            gt: None,
            steps: 8,
            guidance: 0.0,
            max_windows: 64,
            batch: 8,
            seed: 0,
            progress: false,
            engine: Engine::default(),
        }
    }
}

impl EvalOptions {
    /// Checks every option's range (the errors name the CLI flags): steps 1..=1000, guidance
    /// finite in [0, 20], batch ≥ 1; `max_windows` 0 means all. [`eval`] calls it before
    /// loading anything, so the library refuses what the CLI refuses.
    pub fn validate(&self) -> Result<(), EvalError> {
        check_sampling(self.steps, self.guidance)?;
        if self.batch == 0 {
            return Err(LiftError::BadOptions("batch must be at least 1 window".into()).into());
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Lift(#[from] LiftError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Motion(#[from] MotionFileError),
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error("{0}")]
    Mismatch(String),
}

impl From<candle_core::Error> for EvalError {
    fn from(e: candle_core::Error) -> Self {
        EvalError::Infer(e.into())
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvalReport {
    /// `val` (held-out shards) or `file`.
    pub mode: String,
    pub checkpoint: PathBuf,
    pub steps: usize,
    pub guidance: f64,
    /// Engine of the per-step forward (`candle` or `onnxruntime`).
    pub engine: String,
    pub windows: usize,
    pub frames: usize,
    pub metrics: Metrics,
    pub seconds: f64,
    /// Lifted through the streaming path with this hop (frames between updates); `None`:
    /// offline windows.
    pub streaming_hop: Option<usize>,
}

/// Lifts one whole 2D sequence to one frame per input frame (with its `inferred` flag).
pub type SequenceLift<'a> = dyn Fn(&Lifter, &Track2d) -> Result<Vec<MotionFrame>, LiftError> + 'a;

/// Another way to lift each evaluated sequence (the streaming path), and its hop for the report.
pub struct Streaming<'a> {
    pub hop: usize,
    pub lift: &'a SequenceLift<'a>,
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = &self.metrics;
        let opt = |v: Option<f32>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "n/a".into());
        let path = self.streaming_hop.map(|h| format!(", streaming hop {h}")).unwrap_or_default();
        writeln!(
            f,
            "eval ({}{path}) {}: {} windows, {} frames, DDIM {} steps, guidance {}, {} ({:.1} s)",
            self.mode,
            self.checkpoint.display(),
            self.windows,
            self.frames,
            self.steps,
            self.guidance,
            self.engine,
            self.seconds
        )?;
        writeln!(f, "{:<22} {:>10}", "metric", "value")?;
        writeln!(f, "{:<22} {:>10.1}", "MPJPE (mm)", m.mpjpe_mm)?;
        writeln!(f, "{:<22} {:>10.1}", "PA-MPJPE (mm)", m.pa_mpjpe_mm)?;
        writeln!(f, "{:<22} {:>10.2}", "accel error (mm/f²)", m.accel_error_mm)?;
        writeln!(f, "{:<22} {:>10.2}", "jitter (mm/f³)", m.jitter_mm)?;
        writeln!(f, "{:<22} {:>10}", "foot skate", opt(m.foot_skate))?;
        write!(f, "{:<22} {:>10}", "foot skate (gt)", opt(m.foot_skate_gt))
    }
}

fn joints_of(rows: &[Vec<f32>]) -> Vec<Joints> {
    rows.iter().map(|r| decode_frame(r).joints()).collect()
}

/// Window-weighted mean of per-window metrics.
fn average(ms: &[Metrics]) -> Metrics {
    let n = ms.len().max(1) as f32;
    let avg = |f: fn(&Metrics) -> f32| ms.iter().map(f).sum::<f32>() / n;
    let avg_opt = |f: fn(&Metrics) -> Option<f32>| {
        let v: Vec<f32> = ms.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32)
    };
    Metrics {
        mpjpe_mm: avg(|m| m.mpjpe_mm),
        pa_mpjpe_mm: avg(|m| m.pa_mpjpe_mm),
        accel_error_mm: avg(|m| m.accel_error_mm),
        jitter_mm: avg(|m| m.jitter_mm),
        foot_skate: avg_opt(|m| m.foot_skate),
        foot_skate_gt: avg_opt(|m| m.foot_skate_gt),
    }
}

/// Runs the evaluation (see the module docs).
pub fn eval(opts: &EvalOptions) -> Result<EvalReport, EvalError> {
    eval_with(opts, None)
}

/// Runs the evaluation, lifting each sequence with `streaming` when given (one whole held-out
/// clip, or the whole keypoint file) instead of the offline windows.
pub fn eval_with(opts: &EvalOptions, streaming: Option<&Streaming>) -> Result<EvalReport, EvalError> {
    opts.validate()?;
    let lifter = Lifter::load(&opts.checkpoint)?.with_engine(opts.engine, None)?;
    let t0 = Instant::now();
    let (mode, windows, frames, m) = match &opts.gt {
        Some((gt, kp)) => {
            let (frames, m) = eval_file(&lifter, gt, kp, opts, streaming)?;
            ("file", 1, frames, m)
        }
        None => {
            let (w, f, m) = eval_val(&lifter, opts, streaming)?;
            ("val", w, f, m)
        }
    };
    Ok(EvalReport {
        mode: mode.into(),
        checkpoint: opts.checkpoint.clone(),
        steps: opts.steps,
        guidance: opts.guidance,
        engine: opts.engine.name().into(),
        windows,
        frames,
        metrics: m,
        seconds: t0.elapsed().as_secs_f64(),
        streaming_hop: streaming.map(|s| s.hop),
    })
}

/// A held-out clip's 2D conditions (`S × 17 × 3` values, already normalised) as a track at
/// `fps`; a frame with no confident joint counts as unseen.
fn clip_track(pose: &[f32], fps: f64) -> Track2d {
    let keypoints: Vec<Frame2d> =
        pose.chunks_exact(17 * 3).map(|f| std::array::from_fn(|j| [f[3 * j], f[3 * j + 1], f[3 * j + 2]])).collect();
    let n = keypoints.len();
    Track2d {
        header: Header::new(fps, 0, 0, "val"),
        frame: (0..n as u64).collect(),
        t: (0..n).map(|i| i as f64 / fps).collect(),
        seen: keypoints.iter().map(|k| k.iter().any(|p| p[2] > 0.0)).collect(),
        keypoints,
        fallback_id: None,
    }
}

fn eval_val(lifter: &Lifter, opts: &EvalOptions, streaming: Option<&Streaming>) -> Result<(usize, usize, Metrics), EvalError> {
    let manifest = read_manifest(&opts.data)?;
    let s = lifter.frames();
    if manifest.contract != lifter.contract {
        return Err(EvalError::Mismatch(format!(
            "the data set in {} was built under the {} motion contract, the model was trained under {}: evaluate it on a data set \
             built like its training set, or train a model on this one",
            opts.data.display(),
            manifest.contract,
            lifter.contract
        )));
    }
    if manifest.clip_len != s {
        return Err(EvalError::Mismatch(format!("data set clips have {} frames, the model {s}", manifest.clip_len)));
    }
    let dev = Device::Cpu;
    let total: usize = manifest.shards.iter().filter(|sh| sh.split == Split::Val).map(|sh| sh.samples).sum();
    let want = if opts.max_windows == 0 { total } else { total.min(opts.max_windows) };
    if want == 0 {
        return Err(EvalError::Mismatch(format!("{}: no validation windows", opts.data.display())));
    }
    let pb = if opts.progress { ProgressBar::new(want as u64) } else { ProgressBar::hidden() };
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut per = Vec::new();
    let batch = opts.batch.max(1);
    'shards: for sh in manifest.shards.iter().filter(|sh| sh.split == Split::Val) {
        let path = opts.data.join(&sh.file);
        let t = candle_core::safetensors::load(&path, &dev)?;
        let get = |k: &str| t.get(k).cloned().ok_or_else(|| EvalError::Mismatch(format!("{}: no `{k}` tensor", path.display())));
        let (motion, pose) = (get("motion")?, get("pose2d")?);
        let n = motion.dim(0)?;
        let mut i = 0;
        while i < n {
            let b = batch.min(n - i).min(want - per.len());
            if b == 0 {
                break 'shards;
            }
            let gt = motion.narrow(0, i, b)?.to_vec3::<f32>()?;
            let clips = pose.narrow(0, i, b)?;
            let pred: Vec<Vec<Joints>> = match streaming {
                Some(st) => clips
                    .flatten_from(1)?
                    .to_vec2::<f32>()?
                    .iter()
                    .map(|c| Ok((st.lift)(lifter, &clip_track(c, f64::from(manifest.fps)))?.iter().map(|p| p.joints()).collect()))
                    .collect::<Result<_, EvalError>>()?,
                None => {
                    let pz = lifter.sample_model_space(&clips, opts.steps, opts.guidance, None, &mut rng)?;
                    pz.to_vec3::<f32>()?
                        .iter()
                        .map(|p| joints_of(&p.iter().map(|z| lifter.norm.denormalize(z)).collect::<Vec<_>>()))
                        .collect()
                }
            };
            for (p, g) in pred.iter().zip(&gt) {
                per.push(metrics(p, &joints_of(g)));
            }
            pb.inc(b as u64);
            i += b;
        }
        if per.len() >= want {
            break;
        }
    }
    pb.finish_and_clear();
    Ok((per.len(), per.len() * s, average(&per)))
}

fn place_all(poses: &[MotionFrame]) -> Vec<Joints> {
    let Some(first) = poses.first() else { return vec![] };
    let pl = Placement::canonical_for(first);
    poses.iter().map(|p| pl.to_canonical(p).joints()).collect()
}

fn eval_file(
    lifter: &Lifter,
    gt_path: &Path,
    kp: &Path,
    opts: &EvalOptions,
    streaming: Option<&Streaming>,
) -> Result<(usize, Metrics), EvalError> {
    let (_, gt) = read_motion(gt_path)?;
    let mut track = read_track(kp)?;
    let lifted: Vec<MotionFrame> = match streaming {
        Some(st) => {
            track = track.decimate();
            (st.lift)(lifter, &track)?
        }
        None => {
            let lo = LiftOptions {
                checkpoint: opts.checkpoint.clone(),
                steps: opts.steps,
                guidance: opts.guidance,
                seed: opts.seed,
                progress: opts.progress,
                engine: opts.engine,
                hop: (lifter.frames() * 2 / 3).max(1),
                ..Default::default()
            };
            lift_track(lifter, &track, &lo)?.frames
        }
    };
    let by_frame: std::collections::HashMap<u64, &MotionFrame> = gt.iter().map(|f| (f.frame, f)).collect();
    let (mut pp, mut gp) = (Vec::new(), Vec::new());
    for (p, frame) in lifted.iter().zip(&track.frame) {
        if let Some(g) = by_frame.get(frame).filter(|_| !p.inferred) {
            pp.push(*p);
            gp.push(**g);
        }
    }
    if pp.is_empty() {
        return Err(EvalError::Mismatch(format!(
            "{} and {} share no frame numbers (with the performer seen)",
            gt_path.display(),
            kp.display()
        )));
    }
    Ok((pp.len(), metrics(&place_all(&pp), &place_all(&gp))))
}
