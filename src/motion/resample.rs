//! The model's frame rate at inference: the denoiser works on [`MODEL_FPS`] (30 fps) windows,
//! whatever the input's rate.
//!
//! - Offline (`mocapd lift`, `mocapd eval`): the 2D track is resampled onto a 30 fps grid
//!   (`pose::performer::Track2d::resample`), lifted, and [`resample_frames`] brings the output
//!   back to the input's timestamps (slerp per joint, lerp root and contacts). An input already
//!   at the model's rate ([`at_model_rate`], within 1 %) is lifted as it is.
//! - Live (`mocapd run` / `bench`): a faster source is thinned by a [`Decimator`] before pose
//!   estimation (keypoint-file replay likewise); a slower one passes as it is.
use super::frame::MotionFrame;
use crate::skeleton::rotation::{quat_normalize, slerp};

use super::MODEL_FPS;

/// Relative tolerance within which a rate counts as the model's.
pub const RATE_TOLERANCE: f64 = 0.01;

/// Slack under one model frame period that the [`Decimator`] allows between kept frames
/// (timestamp jitter of a source at exactly 30 fps), seconds.
pub const DECIMATION_SLACK: f64 = 0.002;

/// True when `fps` is the model's rate within [`RATE_TOLERANCE`] (such an input is lifted
/// unchanged).
pub fn at_model_rate(fps: f64) -> bool {
    fps.is_finite() && fps > 0.0 && (fps / MODEL_FPS - 1.0).abs() <= RATE_TOLERANCE
}

/// The pose at each of `times` (seconds), interpolated between the two frames of `frames`
/// (sorted by `t`) that surround it: linear root and contact scores, slerp per joint. A time
/// before the first frame or after the last holds that frame. The result's `t` is the asked
/// time; `frame` and `inferred` are those of the nearer source frame (callers that map back to
/// their input overwrite both). Empty when `frames` is empty.
pub fn resample_frames(frames: &[MotionFrame], times: &[f64]) -> Vec<MotionFrame> {
    if frames.is_empty() {
        return vec![];
    }
    times
        .iter()
        .map(|&t| {
            let j = frames.partition_point(|f| f.t <= t);
            if j == 0 || j == frames.len() {
                let f = frames[j.min(frames.len() - 1)];
                return MotionFrame { t, ..f };
            }
            let (a, b) = (&frames[j - 1], &frames[j]);
            let span = b.t - a.t;
            let w = if span > 0.0 { ((t - a.t) / span).clamp(0.0, 1.0) } else { 0.0 };
            let wf = w as f32;
            let near = if w < 0.5 { a } else { b };
            MotionFrame {
                frame: near.frame,
                t,
                root: std::array::from_fn(|c| a.root[c] + wf * (b.root[c] - a.root[c])),
                rotations: std::array::from_fn(|n| quat_normalize(slerp(a.rotations[n], b.rotations[n], wf))),
                contacts: std::array::from_fn(|c| a.contacts[c] + wf * (b.contacts[c] - a.contacts[c])),
                inferred: near.inferred,
            }
        })
        .collect()
}

/// Thins a source faster than the model's rate to about [`MODEL_FPS`]: a frame is kept when its
/// time is at least `1 / MODEL_FPS − DECIMATION_SLACK` after the last frame kept (so a 60 fps
/// source keeps every second frame, 120 fps every fourth, 50 fps every second: 25 fps). A
/// source at or below the model's rate (within 1 %) is not thinned: every frame is kept, and the
/// denoise loop then runs at the source's own rate. A time that goes backwards (a source that
/// restarted) is kept and restarts the rule.
#[derive(Debug, Clone)]
pub struct Decimator {
    enabled: bool,
    last: Option<f64>,
}

impl Decimator {
    /// For a source of nominal rate `fps`; an unknown rate (0, NaN) thins by time alone.
    pub fn new(fps: f64) -> Self {
        let known = fps.is_finite() && fps > 0.0;
        Self { enabled: !known || fps > MODEL_FPS * (1.0 + RATE_TOLERANCE), last: None }
    }

    /// Whether this decimator drops frames at all.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The smallest gap between kept frames, seconds.
    pub fn min_gap() -> f64 {
        1.0 / MODEL_FPS - DECIMATION_SLACK
    }

    /// Whether the frame at `t` (seconds) is kept; a kept frame becomes the reference.
    pub fn keep(&mut self, t: f64) -> bool {
        if !self.enabled || !t.is_finite() {
            return true;
        }
        let keep = match self.last {
            None => true,
            Some(last) => t < last || t - last >= Self::min_gap(),
        };
        if keep {
            self.last = Some(t);
        }
        keep
    }

    /// The rate a source of nominal `fps` leaves at: `fps / k`, `k` the smallest whole number
    /// of source frames spanning [`Self::min_gap`]; `fps` itself when not thinned.
    pub fn output_fps(fps: f64) -> f64 {
        if !(Self::new(fps).enabled && fps.is_finite() && fps > 0.0) {
            return fps;
        }
        let k = (Self::min_gap() * fps - 1e-9).ceil().max(1.0);
        fps / k
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::rotation::axis_angle_to_quat;

    /// 30 fps frames of a constant-velocity motion: the root moves linearly, every joint turns
    /// about its own axis at a constant rate.
    fn steady(n: usize) -> Vec<MotionFrame> {
        (0..n).map(|i| steady_at(i as f64 / 30.0, i as u64)).collect()
    }

    fn steady_at(t: f64, frame: u64) -> MotionFrame {
        let t32 = t as f32;
        MotionFrame {
            root: [0.5 + 1.2 * t32, 0.9 - 0.1 * t32, -0.3 * t32],
            rotations: std::array::from_fn(|j| axis_angle_to_quat([0.0, 0.8 * t32 * (1.0 + j as f32 / 24.0), 0.2 * t32])),
            contacts: [t32 * 0.1, 0.5, 1.0 - 0.1 * t32, 0.0],
            ..MotionFrame::rest(frame, t)
        }
    }

    #[test]
    fn resample_frames_reproduces_a_constant_velocity_motion() {
        let frames = steady(61);
        let times: Vec<f64> = (0..=120).map(|i| i as f64 / 60.0).chain((0..=50).map(|i| i as f64 / 25.0)).collect();
        let out = resample_frames(&frames, &times);
        assert_eq!(out.len(), times.len());
        for (f, &t) in out.iter().zip(&times) {
            assert_eq!(f.t, t);
            let want = steady_at(t, 0);
            for c in 0..3 {
                assert!((f.root[c] - want.root[c]).abs() < 1e-4, "t {t}: root {:?} vs {:?}", f.root, want.root);
            }
            for c in 0..4 {
                assert!((f.contacts[c] - want.contacts[c]).abs() < 1e-4);
            }
            for j in 0..24 {
                let (q, w) = (f.rotations[j], want.rotations[j]);
                let d = (0..4).map(|c| (q[c] - w[c]).abs()).fold(0.0f32, f32::max);
                let e = (0..4).map(|c| (q[c] + w[c]).abs()).fold(0.0f32, f32::max);
                assert!(d.min(e) < 1e-4, "t {t} joint {j}: {q:?} vs {w:?}");
            }
        }
        // on the grid: the frames themselves
        let same = resample_frames(&frames, &frames.iter().map(|f| f.t).collect::<Vec<_>>());
        assert_eq!(same.iter().map(|f| f.frame).collect::<Vec<_>>(), (0..61).collect::<Vec<u64>>());
        // outside: held
        let held = resample_frames(&frames, &[-1.0, 9.0]);
        assert_eq!((held[0].root, held[1].root), (frames[0].root, frames[60].root));
        assert!(resample_frames(&[], &[0.0]).is_empty());
    }

    #[test]
    fn decimator_keeps_every_second_frame_of_60_fps() {
        // 60 fps with ±1 ms of timestamp jitter
        let jitter = [0.0, 0.001, -0.001, 0.0005, -0.0008, 0.0];
        let t: Vec<f64> = (0..120).map(|i| i as f64 / 60.0 + jitter[i % jitter.len()]).collect();
        let mut d = Decimator::new(60.0);
        assert!(d.is_enabled());
        let kept: Vec<usize> = (0..t.len()).filter(|&i| d.keep(t[i])).collect();
        assert_eq!(kept, (0..120).step_by(2).collect::<Vec<_>>());
        assert!((Decimator::output_fps(60.0) - 30.0).abs() < 1e-9);
        assert!((Decimator::output_fps(59.94) - 29.97).abs() < 1e-9);
        assert!((Decimator::output_fps(120.0) - 30.0).abs() < 1e-9);
        assert!((Decimator::output_fps(50.0) - 25.0).abs() < 1e-9);
        let mut d = Decimator::new(120.0);
        assert_eq!((0..120).filter(|&i| d.keep(i as f64 / 120.0)).count(), 30);
        // 30 fps (even with jitter) and 25 fps: untouched
        for fps in [30.0, 30.2, 25.0] {
            let mut d = Decimator::new(fps);
            assert!(!d.is_enabled());
            assert!((0..100).all(|i| d.keep(i as f64 / fps + jitter[i % jitter.len()] * 3.0)));
            assert_eq!(Decimator::output_fps(fps), fps);
        }
        // an unknown rate thins by time; a restart (time going back) is kept
        let mut d = Decimator::new(0.0);
        assert_eq!([0.0, 1.0 / 60.0, 2.0 / 60.0, 0.0, 0.01].map(|t| d.keep(t)), [true, false, true, true, false]);
        assert!(at_model_rate(30.0) && at_model_rate(29.8) && !at_model_rate(29.5) && !at_model_rate(25.0) && !at_model_rate(0.0));
    }
}
