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
//!
//! The model works at [`MODEL_FPS`] (30 fps). A track at another rate (a 60 fps video, a 25 fps
//! keypoint file) is first resampled onto a 30 fps grid ([`Track2d::resample`]), lifted there,
//! and each input frame then gets the pose interpolated at its own time between the two
//! surrounding 30 fps frames ([`resample_frames`]: slerp per joint, lerp root and contacts),
//! `inferred` where the input frame did not see the performer: one output frame per input
//! frame, at the input's times. A track already at 30 fps (within 1 %, [`at_model_rate`]) is
//! lifted as it is.
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::bvh::{write as bvh_write, BvhWriteError};
use crate::infer::{Features, FrameNoise, InferError, Lifter, DEFAULT_CHECKPOINT};
use crate::model::onnx::Engine;
use crate::motion::bvh::{to_bvh, Units};
use crate::motion::codec::{decode, decode_frame};
use crate::motion::{
    at_model_rate, resample_frames, write_motion, Contract, MotionFileError, MotionFrame, MotionHeader, Placement, MODEL_FPS,
};
use crate::pose::performer::{performer_track, Track2d};
use crate::pose::record::{KeypointReader, RecordError};

use super::preview::{PreviewError, PreviewReport};
use super::reproject::{reproject_motion, Reprojection};

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

/// Most DDIM steps (the noise schedule's T).
pub const MAX_STEPS: usize = 1000;
/// Largest classifier-free guidance weight accepted.
pub const MAX_GUIDANCE: f64 = 20.0;

/// The ranges of the sampling options `lift` and `eval` share, each error naming its flag.
pub(crate) fn check_sampling(steps: usize, guidance: f64) -> Result<(), LiftError> {
    if !(1..=MAX_STEPS).contains(&steps) {
        return Err(LiftError::BadOptions(format!("--steps must be in 1..={MAX_STEPS} (DDIM steps), got {steps}")));
    }
    if !(guidance.is_finite() && (0.0..=MAX_GUIDANCE).contains(&guidance)) {
        return Err(LiftError::BadOptions(format!("--guidance must be a finite weight in [0, {MAX_GUIDANCE}], got {guidance}")));
    }
    Ok(())
}

impl LiftOptions {
    /// Checks every option's range (the errors name the CLI flags): steps 1..=1000, guidance
    /// finite in [0, 20], hop ≥ 1 (and ≤ `frames`, the model's window, when it is known),
    /// contact threshold in [0, 1]. [`lift_file`] and [`lift_track`] call it, so the library
    /// refuses what the CLI refuses.
    pub fn validate(&self, frames: Option<usize>) -> Result<(), LiftError> {
        check_sampling(self.steps, self.guidance)?;
        let s = frames.unwrap_or(usize::MAX);
        if self.hop == 0 || self.hop > s {
            let range = frames.map_or_else(|| "at least 1".to_string(), |s| format!("in 1..={s} (the model's window)"));
            return Err(LiftError::BadOptions(format!("--hop must be {range} frames, got {}", self.hop)));
        }
        if !(0.0..=1.0).contains(&self.contact_threshold) {
            return Err(LiftError::BadOptions(format!("contact threshold must be in [0, 1], got {}", self.contact_threshold)));
        }
        Ok(())
    }
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
    #[error("invalid option: {0}")]
    BadOptions(String),
    #[error(transparent)]
    Motion(#[from] MotionFileError),
    #[error(transparent)]
    Bvh(#[from] BvhWriteError),
    #[error("output {}: unknown extension (use .jsonl or .bvh)", path.display())]
    OutputKind { path: PathBuf },
    #[error(transparent)]
    Preview(#[from] PreviewError),
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
    /// Rate of the input and of the output (one output frame per input frame).
    pub fps: f64,
    /// Rate the windows were lifted at: the model's (30) when the input was resampled, else
    /// the input's.
    pub lifted_fps: f64,
    /// The fallback performer track id (most frequent).
    pub performer: Option<u32>,
    pub seconds: f64,
    pub windows_per_second: f64,
    /// The checkpoint's motion contract (first-frame: the output faces +Z at the start, not
    /// the camera's way).
    pub contract: Contract,
    /// The lifted joints against the detections ([`super::reproject`]); `None` without
    /// confident keypoints.
    pub reprojection: Option<Reprojection>,
    /// The `--preview` drawn (`mocapd lift` fills it in).
    pub preview: Option<PreviewReport>,
}

/// A finished lift: its report, the performer track it lifted and the lifted frames.
#[derive(Debug, Clone)]
pub struct LiftRun {
    pub report: LiftReport,
    pub track: Track2d,
    pub lifted: Lifted,
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

/// Lifts a performer track with `lifter` (see the module docs): at the model's rate, one output
/// frame per input frame. The [`WindowTrace`]s are those of the 30 fps grid when the track was
/// resampled.
pub fn lift_track(lifter: &Lifter, track: &Track2d, opts: &LiftOptions) -> Result<Lifted, LiftError> {
    at_model_rate_with(track, |t| lift_windows(lifter, t, opts))
}

/// Runs `lift` on `track` at the model's rate: on the track itself when it is at 30 fps (within
/// 1 %; the result is returned untouched), otherwise on [`Track2d::resample`]`(MODEL_FPS)`, the
/// lifted frames then interpolated back to the input's times ([`resample_frames`]) with the
/// input's frame numbers and `inferred = !seen`. `lift` must return one frame per frame of the
/// track it is given, with that track's times.
pub fn at_model_rate_with(track: &Track2d, lift: impl FnOnce(&Track2d) -> Result<Lifted, LiftError>) -> Result<Lifted, LiftError> {
    if track.is_empty() || at_model_rate(track.fps()) {
        return lift(track);
    }
    let grid = track.resample(MODEL_FPS);
    let lifted = lift(&grid)?;
    let frames = resample_frames(&lifted.frames, &track.t)
        .into_iter()
        .enumerate()
        .map(|(i, f)| MotionFrame { frame: track.frame[i], t: track.t[i], inferred: !track.seen[i], ..f })
        .collect();
    Ok(Lifted { frames, windows: lifted.windows })
}

/// Lifts `track` window by window at its own rate (the model's: see [`lift_track`]).
fn lift_windows(lifter: &Lifter, track: &Track2d, opts: &LiftOptions) -> Result<Lifted, LiftError> {
    let s = lifter.frames();
    opts.validate(Some(s))?;
    let n = track.len();
    if n == 0 {
        return Ok(Lifted { frames: vec![], windows: vec![] });
    }
    let starts = window_starts(n, s, opts.hop);
    let pb = crate::data::build::bar(opts.progress, starts.len() as u64, "lift: windows");
    let mut world: Vec<Features> = Vec::with_capacity(n);
    let mut windows = Vec::with_capacity(starts.len());
    for &start in &starts {
        let kp = padded(&track.keypoints, start, s);
        let known_n = world.len().saturating_sub(start).min(s);
        let place = if known_n > 0 { lifter.placement(&decode_frame(&world[start])) } else { Placement::IDENTITY };
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
    lift_file_run(input, out, opts).map(|r| r.report)
}

/// [`lift_file`], keeping the track and the lifted frames (for a preview).
pub fn lift_file_run(input: &Path, out: &Path, opts: &LiftOptions) -> Result<LiftRun, LiftError> {
    let ext_ok =
        matches!(out.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref(), Some("jsonl" | "json" | "bvh"));
    if !ext_ok {
        return Err(LiftError::OutputKind { path: out.into() });
    }
    opts.validate(None)?;
    let lifter = Lifter::load(&opts.checkpoint)?.with_engine(opts.engine, None)?;
    opts.validate(Some(lifter.frames()))?;
    let track = read_track(input)?;
    let t0 = Instant::now();
    let lifted = lift_track(&lifter, &track, opts)?;
    let seconds = t0.elapsed().as_secs_f64();
    let fps = track.fps();
    write_output(out, &lifted.frames, fps, opts.contact_threshold)?;
    let report = LiftReport {
        out: out.into(),
        frames: lifted.frames.len(),
        inferred_frames: lifted.frames.iter().filter(|f| f.inferred).count(),
        windows: lifted.windows.len(),
        fps,
        lifted_fps: if at_model_rate(fps) { fps } else { MODEL_FPS },
        performer: track.fallback_id,
        seconds,
        windows_per_second: lifted.windows.len() as f64 / seconds.max(1e-9),
        contract: lifter.contract,
        reprojection: reproject_motion(&lifted.frames, &track.keypoints),
        preview: None,
    };
    Ok(LiftRun { report, track, lifted })
}

#[cfg(test)]
mod rate_tests {
    //! The model's rate at inference: 60 and 25 fps tracks are lifted on a 30 fps grid and
    //! answered at their own times; a 30 fps track passes through bit for bit.
    use std::cell::Cell;

    use super::*;
    use crate::model::{save_random_checkpoint, ModelConfig, MotionStats};
    use crate::motion::Frame2d;
    use crate::pose::record::Header;
    use crate::skeleton::rotation::axis_angle_to_quat;

    const S: usize = 40;

    /// Keypoint 0 moves at constant velocity: `x = 100 + 60 t`, `y = 300 − 30 t`.
    fn track(fps: f64, n: usize, unseen: std::ops::Range<usize>) -> Track2d {
        let t: Vec<f64> = (0..n).map(|i| i as f64 / fps).collect();
        let kp = |t: f64| -> Frame2d {
            let t = t as f32;
            std::array::from_fn(|j| [100.0 + 60.0 * t + j as f32, 300.0 - 30.0 * t, 0.9])
        };
        Track2d {
            header: Header::new(fps, 640, 480, "test"),
            frame: (0..n as u64).map(|i| 1000 + i).collect(),
            keypoints: t.iter().map(|&t| kp(t)).collect(),
            seen: (0..n).map(|i| !unseen.contains(&i)).collect(),
            t,
            fallback_id: None,
        }
    }

    /// A stand-in lifter whose pose follows keypoint 0: root `(x, y, 0) / 100`, every joint
    /// turned about Y by `x / 100` rad.
    fn follow(tr: &Track2d) -> Lifted {
        let frames = (0..tr.len())
            .map(|i| {
                let [x, y, _] = tr.keypoints[i][0];
                MotionFrame {
                    root: [x / 100.0, y / 100.0, 0.0],
                    rotations: [axis_angle_to_quat([0.0, x / 100.0, 0.0]); 24],
                    contacts: [x / 1000.0; 4],
                    inferred: !tr.seen[i],
                    ..MotionFrame::rest(tr.frame[i], tr.t[i])
                }
            })
            .collect();
        Lifted { frames, windows: vec![] }
    }

    fn check_rate(fps: f64, n: usize) {
        let tr = track(fps, n, 20..23);
        let grid_fps = Cell::new(0.0);
        let lifted = at_model_rate_with(&tr, |g| {
            grid_fps.set(g.header.fps);
            assert!(g.t.iter().enumerate().all(|(k, &t)| (t - k as f64 / 30.0).abs() < 1e-12), "not a 30 fps grid");
            Ok(follow(g))
        })
        .unwrap();
        assert_eq!(grid_fps.get(), 30.0);
        assert_eq!(lifted.frames.len(), n, "one output frame per input frame");
        let want = follow(&tr).frames;
        for (i, (f, w)) in lifted.frames.iter().zip(&want).enumerate() {
            assert_eq!((f.frame, f.t, f.inferred), (tr.frame[i], tr.t[i], !tr.seen[i]), "frame {i}");
            if (18..26).contains(&i) {
                continue; // next to the unseen frames the grid's nearer-frame rule holds keypoints
            }
            for c in 0..3 {
                assert!((f.root[c] - w.root[c]).abs() < 1e-4, "{fps} fps frame {i}: root {:?} vs {:?}", f.root, w.root);
            }
            for j in 0..24 {
                let d = (0..4).map(|c| (f.rotations[j][c] - w.rotations[j][c]).abs()).fold(0.0f32, f32::max);
                assert!(d < 1e-4, "{fps} fps frame {i} joint {j}");
            }
            assert!((f.contacts[0] - w.contacts[0]).abs() < 1e-4);
        }
    }

    #[test]
    fn lift_60_fps_on_a_30_fps_grid_answers_at_60_fps() {
        check_rate(60.0, 181); // 3 s
    }

    #[test]
    fn lift_25_fps_on_a_30_fps_grid_answers_at_25_fps() {
        check_rate(25.0, 76); // 3 s
    }

    #[test]
    fn lift_30_fps_passes_through_bit_identical() {
        for fps in [30.0, 30.2, 29.8] {
            let tr = track(fps, 50, 5..8);
            let mut seen = None;
            let out = at_model_rate_with(&tr, |g| {
                seen = Some(std::ptr::eq(g, &tr));
                Ok(follow(g))
            })
            .unwrap();
            assert_eq!(seen, Some(true), "{fps} fps: the track itself is lifted");
            let direct = follow(&tr).frames;
            let bits = |f: &MotionFrame| (f.frame, f.t.to_bits(), f.root.map(f32::to_bits), f.rotations.map(|q| q.map(f32::to_bits)));
            assert!(out.frames.iter().zip(&direct).all(|(a, b)| bits(a) == bits(b) && a.inferred == b.inferred));
        }
    }

    #[test]
    fn lift_track_with_a_checkpoint_at_60_and_30_fps() {
        let dir = tempfile::tempdir().unwrap();
        let ck = dir.path().join("tiny.safetensors");
        let stats = MotionStats { mean: vec![0.0; 151], std: vec![1.0; 151] };
        save_random_checkpoint(&ck, &ModelConfig::tiny(S), Some(&stats)).unwrap();
        let lifter = Lifter::load(&ck).unwrap();
        let opts = LiftOptions { checkpoint: ck, steps: 2, hop: 30, ..Default::default() };
        // 60 fps: windows over the 30 fps grid, frames back at the input's times
        let tr = track(60.0, 121, 40..44);
        let l = lift_track(&lifter, &tr, &opts).unwrap();
        assert_eq!(l.frames.len(), 121);
        assert!(l.frames.iter().zip(&tr.t).all(|(f, &t)| f.t == t && f.is_clean(1e-3)));
        assert_eq!(l.frames.iter().filter(|f| f.inferred).count(), 4);
        assert_eq!(l.windows.iter().map(|w| w.start).collect::<Vec<_>>(), window_starts(61, S, 30));
        // 30 fps: exactly the windows at the input's own rate
        let tr = track(30.0, 70, 10..12);
        let a = lift_track(&lifter, &tr, &opts).unwrap();
        let b = lift_windows(&lifter, &tr, &opts).unwrap();
        assert_eq!(a.frames, b.frames);
        assert_eq!(a.frames.iter().map(|f| f.t).collect::<Vec<_>>(), tr.t);
    }
}
