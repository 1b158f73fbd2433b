//! `mocapd eval --streaming`: the quality cost of the daemon's streaming settings. Each held-out
//! sequence runs through the denoise loop's own logic ([`stream_sequence`]: warm-up, in-filling
//! of sent frames, hop, lookahead, presence, root speed limit, smoothing) with the daemon's
//! step count and a fixed hop instead of the clock, and the evaluation ([`eval_with`]) scores it
//! as one more method, next to the offline step counts and the baselines on the same windows.
use std::cell::Cell;
use std::time::Instant;

use super::eval::{eval_with, Streaming};
use super::{EvalError, EvalOptions, EvalReport, LiftError};
use crate::infer::Lifter;
use crate::motion::MotionFrame;
use crate::pipeline::denoise::stream_sequence;
use crate::pipeline::PipelineSettings;
use crate::pose::performer::Track2d;
use crate::window::Pose2d;

/// Hop used when the config's `pipeline.hop` is adaptive (0): what the adaptive stride does
/// with the small model at 4 steps and 30 fps (`mocapd bench` on the demo keypoints, one
/// core busy with training: 230 frames in 196 updates, 1.2 frames per update).
pub const TYPICAL_HOP: usize = 1;

/// The streaming hop's range (`--hop`): at least 1, and with the lookahead the stream holds back
/// (`pipeline.lookahead_frames`, at most half the window) no more than the model's window
/// `frames`, when known.
pub fn check_hop(hop: usize, lookahead: usize, frames: Option<usize>) -> Result<(), LiftError> {
    if hop == 0 {
        return Err(LiftError::BadOptions("--hop must be at least 1 frame, got 0".into()));
    }
    if let Some(s) = frames.filter(|&s| hop + lookahead.min(s / 2) > s) {
        return Err(LiftError::BadOptions(format!(
            "--hop {hop} plus pipeline.lookahead_frames {lookahead} must be at most {s} frames (the model's window)"
        )));
    }
    Ok(())
}

/// Evaluates `opts` with the streaming path as one more method: `settings` as the daemon runs
/// them (steps, lookahead, presence, root speed limit), with `opts`' guidance and seed, and a
/// fixed `hop`. Each sequence gets its own seed (`opts.seed` + its index), so runs are
/// deterministic.
pub fn eval_streaming(opts: &EvalOptions, settings: &PipelineSettings, hop: usize) -> Result<EvalReport, EvalError> {
    check_hop(hop, settings.lookahead_frames, None)?;
    let base = PipelineSettings { guidance: opts.guidance, hop: Some(hop), ..settings.clone() };
    let next_seed = Cell::new(opts.seed);
    let lift = |lifter: &Lifter, track: &Track2d| -> Result<Vec<MotionFrame>, LiftError> {
        check_hop(hop, base.lookahead_frames, Some(lifter.frames()))?;
        let seed = next_seed.replace(next_seed.get() + 1);
        let now = Instant::now();
        let poses = (0..track.len()).map(|i| Pose2d {
            seq: i as u64,
            t: track.t[i],
            captured: now,
            posed: now,
            keypoints: track.keypoints[i],
            seen: track.seen[i],
            people: u32::from(track.seen[i]),
        });
        let frames = stream_sequence(lifter, &PipelineSettings { seed, ..base.clone() }, poses);
        Ok(frames)
    };
    eval_with(opts, Some(&Streaming { hop, steps: base.steps, lift: &lift }))
}
