//! `mocapd lift`: offline lifting of a keypoint file to SMPL-24 motion (ViMo §3.3 sampling,
//! §3.5 (iii) in-filling).
//!
//! Overlapping windows of the checkpoint's S frames (150) every `hop` frames (default 100, so
//! 50 frames overlap; the last window is padded by holding the last frame), each sampled by
//! [`Lifter::sample_window`] (the daemon's code): the 2D keypoints are normalised as in training
//! ([`crate::motion::normalize_sequence`]), DDIM runs with η = 0, and every window after the
//! first in-fills its overlap with the frames already produced, in the window's canonical
//! placement (the first overlap frame faces +Z, root over the origin), so windows stitch
//! seamlessly and the root stays continuous. Output lives in the first window's canonical frame.
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::bvh::{write as bvh_write, BvhWriteError};
use crate::infer::{FrameNoise, Features, InferError, Lifter, DEFAULT_CHECKPOINT};
use crate::model::onnx::Engine;
use crate::motion::bvh::{to_bvh, Units};
use crate::motion::codec::{decode, decode_frame};
use crate::motion::{write_motion, MotionFileError, MotionFrame, MotionHeader, Placement};
use crate::pose::performer::{performer_track, Track2d};
use crate::pose::record::{KeypointReader, RecordError};

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
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error(transparent)]
    Keypoints(#[from] RecordError),
    #[error("keypoint file {}: no frames", path.display())]
    NoFrames { path: PathBuf },
    #[error("bad lift options: {0}")]
    BadOptions(String),
    #[error(transparent)]
    Motion(#[from] MotionFileError),
    #[error(transparent)]
    Bvh(#[from] BvhWriteError),
    #[error("output {}: unknown extension (use .jsonl or .bvh)", path.display())]
    OutputKind { path: PathBuf },
}

impl From<candle_core::Error> for LiftError {
    fn from(e: candle_core::Error) -> Self {
        LiftError::Infer(e.into())
    }
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
    pub features: Vec<Features>,
}

/// A lifted sequence.
#[derive(Debug, Clone)]
pub struct Lifted {
    pub frames: Vec<MotionFrame>,
    pub windows: Vec<WindowTrace>,
}

/// Lifts a performer track with `lifter` (see the module docs).
pub fn lift_track(lifter: &Lifter, track: &Track2d, opts: &LiftOptions) -> Result<Lifted, LiftError> {
    let s = lifter.frames();
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
    let mut world: Vec<Features> = Vec::with_capacity(n);
    let mut windows = Vec::with_capacity(starts.len());
    for &start in &starts {
        let kp = padded(&track.keypoints, start, s);
        let known_n = world.len().saturating_sub(start).min(s);
        let place = if known_n > 0 { Placement::canonical_for(&decode_frame(&world[start])) } else { Placement::IDENTITY };
        let noise = FrameNoise { seed: opts.seed, first: start as u64 };
        let z = lifter.sample_window(&kp, &world[start..start + known_n], place, opts.steps, opts.guidance, noise)?;
        let inside = s.min(n - start);
        let feats = z[..inside].to_vec();
        world.extend_from_slice(&feats[known_n..]);
        windows.push(WindowTrace { start, features: feats });
        pb.inc(1);
    }
    pb.finish_and_clear();
    let frames = decode(&world, track.header.fps)
        .into_iter()
        .enumerate()
        .map(|(i, f)| MotionFrame { frame: track.frame[i], t: track.t[i], inferred: !track.seen[i], ..f })
        .collect();
    Ok(Lifted { frames, windows })
}

/// Window start frames for `n` frames, windows of `len` every `hop` (`hop ≤ len`): 0, hop,
/// 2·hop, … until a window reaches the last frame. The last window may run past the end (the
/// caller pads it by holding the last frame).
pub fn window_starts(n: usize, len: usize, hop: usize) -> Vec<usize> {
    let hop = hop.clamp(1, len.max(1));
    let mut v = vec![0];
    while v[v.len() - 1] + len < n {
        let next = v[v.len() - 1] + hop;
        v.push(next);
    }
    v
}

/// `len` frames from `start`, holding the last frame past the end of `frames` (non-empty).
pub fn padded<T: Clone>(frames: &[T], start: usize, len: usize) -> Vec<T> {
    (start..start + len).map(|i| frames[i.min(frames.len() - 1)].clone()).collect()
}

/// Reads a keypoint file and picks the performer.
pub fn read_track(input: &Path) -> Result<Track2d, LiftError> {
    let (header, frames) = KeypointReader::open(input)?.read_all()?;
    if frames.is_empty() {
        return Err(LiftError::NoFrames { path: input.into() });
    }
    Ok(performer_track(header, &frames))
}

/// Writes frames as `.jsonl` (mocapd.motion/1; contact scores above `contact_threshold` are
/// contacts) or `.bvh` (the recorder's SMPL-24 skeleton, metres), by the extension of `out`.
pub fn write_output(out: &Path, frames: &[MotionFrame], fps: f64, contact_threshold: f32) -> Result<(), LiftError> {
    match out.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("jsonl") | Some("json") => Ok(write_motion(out, &MotionHeader::smpl24(fps), frames, contact_threshold)?),
        Some("bvh") => {
            if let Some(f) = frames.iter().find_map(|f| f.problem().map(|p| (f.frame, p))) {
                return Err(MotionFileError::NotFinite { path: out.into(), frame: f.0, problem: f.1 }.into());
            }
            Ok(bvh_write::write(&to_bvh(frames, fps, Units::Metres), out)?)
        }
        _ => Err(LiftError::OutputKind { path: out.into() }),
    }
}

/// Lifts the keypoint file `input` to `out` (`.jsonl` mocapd.motion/1 or `.bvh`).
pub fn lift_file(input: &Path, out: &Path, opts: &LiftOptions) -> Result<LiftReport, LiftError> {
    let ext_ok =
        matches!(out.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref(), Some("jsonl" | "json" | "bvh"));
    if !ext_ok {
        return Err(LiftError::OutputKind { path: out.into() });
    }
    let lifter = Lifter::load(&opts.checkpoint)?.with_engine(opts.engine, None)?;
    let track = read_track(input)?;
    let t0 = Instant::now();
    let lifted = lift_track(&lifter, &track, opts)?;
    let seconds = t0.elapsed().as_secs_f64();
    let fps = track.header.fps;
    write_output(out, &lifted.frames, fps, opts.contact_threshold)?;
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
