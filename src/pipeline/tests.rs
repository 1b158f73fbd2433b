//! The denoise loop in-process with a tiny random model: every frame comes out once and in
//! order (adaptive stride, fixed hop, lookahead), gaps are marked, long absences go idle and
//! come back, and the root never jumps. The streaming path without threads (`stream_sequence`,
//! behind `mocapd eval --streaming`) equals offline lifting when one update sees the whole
//! window, and the streaming evaluation scores a tiny built set.
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};

use super::denoise::{stream_sequence, DenoiseLoop};
use super::fanout::{Fanout, Outgoing};
use super::{PipelineSettings, Stats};
use crate::lift::input::Track2d;
use crate::lift::{EvalOptions, LiftError, LiftOptions, Lifter};
use crate::model::{save_checkpoint, Denoiser, ModelConfig, MotionStats};
use crate::skeleton::rotation::norm;
use crate::window::Pose2d;

const S: usize = 40;

fn checkpoint(dir: &Path) -> std::path::PathBuf {
    let cfg = ModelConfig::tiny(S);
    let vm = VarMap::new();
    Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap();
    let path = dir.join("tiny.safetensors");
    let mut mean = vec![0.0; 151];
    mean[149] = 0.9;
    save_checkpoint(&path, &vm, &cfg, Some(&MotionStats { mean, std: vec![0.3; 151] })).unwrap();
    path
}

fn lifter(dir: &Path) -> Lifter {
    Lifter::load(&checkpoint(dir)).unwrap()
}

/// Frame `i` of a performer drifting right at 30 fps; nobody in view when `!seen`.
fn pose(i: u64, seen: bool) -> Pose2d {
    let x = 640.0 + 2.0 * i as f32;
    let kp = std::array::from_fn(|j| if seen { [x + 10.0 * (j % 3) as f32, 200.0 + 25.0 * j as f32, 0.9] } else { [0.0; 3] });
    let now = Instant::now();
    Pose2d { seq: i, t: i as f64 / 30.0, captured: now, posed: now, keypoints: kp, seen, people: seen as u32 }
}

/// Runs `n` frames at 30 fps through the loop; frames in `gap` have nobody in view.
fn run(settings: &PipelineSettings, n: u64, gap: std::ops::Range<u64>) -> Vec<Outgoing> {
    let dir = tempfile::tempdir().unwrap();
    let stats = Arc::new(Stats::new());
    let (out, rx) = Fanout::channel(10_000, Arc::clone(&stats));
    let looped = DenoiseLoop::new(lifter(dir.path()), settings, out, Arc::clone(&stats));
    let (tx, prx) = crossbeam_channel::bounded(10_000);
    let h = std::thread::spawn(move || looped.run(prx));
    for i in 0..n {
        tx.send(pose(i, !gap.contains(&i))).unwrap();
        if i % 7 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    drop(tx);
    h.join().unwrap();
    assert_eq!(stats.drops(), 0);
    let mut rx = rx;
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn check_stream(out: &[Outgoing], n: u64) {
    assert_eq!(out.len() as u64, n, "every frame exactly once");
    for (k, o) in out.iter().enumerate() {
        assert_eq!(o.frame.frame, k as u64, "in order");
        assert!(o.frame.is_clean(1e-3), "frame {k} not clean");
    }
    // The root never moves faster than pipeline.max_root_speed (6 m/s by default).
    for w in out.windows(2) {
        let step = norm(crate::skeleton::rotation::sub(w[1].frame.root, w[0].frame.root));
        assert!(step <= 6.0 / 30.0 + 1e-4, "root teleports {step} m at frame {}", w[1].frame.frame);
    }
}

#[test]
fn adaptive_stride_sends_every_frame_once() {
    let out = run(&PipelineSettings::default(), 90, 0..0);
    check_stream(&out, 90);
}

#[test]
fn fixed_hop_and_lookahead_still_send_everything() {
    let s = PipelineSettings { hop: Some(5), lookahead_frames: 4, ..PipelineSettings::default() };
    let out = run(&s, 77, 30..36);
    check_stream(&out, 77);
    assert!(out[30..36].iter().all(|o| o.frame.inferred), "a short gap is marked inferred");
    assert!(!out[40].frame.inferred);
}

#[test]
fn long_absence_holds_then_idles_then_returns_with_a_continuous_root() {
    let s = PipelineSettings {
        absent_timeout: Duration::from_millis(500),
        idle_ease: Duration::from_millis(300),
        ..PipelineSettings::default()
    };
    let out = run(&s, 150, 40..110);
    check_stream(&out, 150);
    // Idle: from 0.5 s after the performer left, the root stays where it was held.
    let held = out[60].frame.root;
    assert!(out[60..110].iter().all(|o| o.frame.root == held && o.frame.inferred));
    // Eased to the idle pose (arms down) by the end of the absence.
    let arm = out[105].frame.rotations[16];
    assert!((arm[2].abs() - (0.6f32).sin()).abs() < 0.05, "left shoulder {arm:?}");
    // No root teleport where the idle begins (last seen frame 39 at 1.3 s; idle from 1.8 s,
    // frame 55) or where the performer returns (frame 110 blends from the idle pose).
    let step = |a: usize, b: usize| norm(crate::skeleton::rotation::sub(out[b].frame.root, out[a].frame.root));
    assert!(step(54, 55) < 1e-5, "idle starts from the held root");
    assert!(step(109, 110) < 1e-3, "the return blends from the idle root: {}", step(109, 110));
    assert!(!out[149].frame.inferred, "live again after the blend");
}

#[test]
fn streaming_with_a_one_window_hop_equals_offline_lift() {
    let dir = tempfile::tempdir().unwrap();
    let lifter = lifter(dir.path());
    let poses: Vec<Pose2d> = (0..S as u64).map(|i| pose(i, true)).collect();
    // No root speed limit and no smoothing, so the only difference left would be the streaming
    // logic itself (the per-frame noise is the offline lifter's too).
    let s = PipelineSettings { steps: 2, seed: 7, hop: Some(S), max_root_speed: None, smoothing: None, ..PipelineSettings::default() };
    let streamed = stream_sequence(&lifter, &s, poses.clone());
    let track = Track2d {
        header: crate::pose::record::Header::new(30.0, 1280, 720, "test"),
        frame: (0..S as u64).collect(),
        t: poses.iter().map(|p| p.t).collect(),
        keypoints: poses.iter().map(|p| p.keypoints).collect(),
        seen: vec![true; S],
        fallback_id: None,
    };
    let offline = lifter.lift_track(&track, &LiftOptions { steps: 2, seed: 7, hop: S, ..LiftOptions::default() }).unwrap().frames;
    assert_eq!((streamed.len(), offline.len()), (S, S));
    for (a, b) in streamed.iter().zip(&offline) {
        assert_eq!((a.frame, a.root, a.rotations), (b.frame, b.root, b.rotations), "frame {}", a.frame);
    }
    // A hop of one frame really streams: the first frames are generated from 8 frames of
    // context, so they differ from the offline ones; every frame still comes out once.
    let hop1 = stream_sequence(&lifter, &PipelineSettings { hop: Some(1), ..s }, poses);
    assert_eq!(hop1.iter().map(|f| f.frame).collect::<Vec<_>>(), (0..S as u64).collect::<Vec<_>>());
    assert!(hop1.iter().all(|f| f.is_clean(1e-3)));
    assert!(hop1.iter().zip(&offline).any(|(a, b)| a.rotations != b.rotations));
}

#[test]
fn streaming_eval_scores_a_tiny_set() {
    let dir = tempfile::tempdir().unwrap();
    let data = crate::lift::tests::tiny_dataset(dir.path(), S);
    let opts = EvalOptions { checkpoint: checkpoint(dir.path()), data, steps: 2, max_windows: 3, batch: 2, ..EvalOptions::default() };
    let s = PipelineSettings::default();
    let r = super::stream_eval::eval_streaming(&opts, &s, 4).unwrap();
    eprintln!("{r}");
    assert_eq!((r.mode.as_str(), r.windows, r.frames, r.streaming_hop), ("val", 3, 3 * S, Some(4)));
    let m = r.metrics;
    for v in [m.mpjpe_mm, m.pa_mpjpe_mm, m.accel_error_mm, m.jitter_mm] {
        assert!(v.is_finite() && v > 0.0, "{m:?}");
    }
    assert!(m.pa_mpjpe_mm <= m.mpjpe_mm + 1e-3);
    let e = super::stream_eval::eval_streaming(&opts, &s, S + 1).unwrap_err();
    assert!(matches!(e, crate::lift::EvalError::Lift(LiftError::BadOptions(_))), "{e}");
}
