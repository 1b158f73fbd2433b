//! The denoise loop in-process with a tiny random model: every frame comes out once and in
//! order (adaptive stride, fixed hop, lookahead), gaps are marked, long absences go idle and
//! come back, and the root never jumps. (The streaming path against offline lifting, and the
//! streaming evaluation, are tested in `lift`.)
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::denoise::DenoiseLoop;
use super::fanout::{Fanout, Outgoing};
use super::{PipelineSettings, Stats};
use crate::infer::Lifter;
use crate::model::{save_random_checkpoint_as, ModelConfig, MotionStats};
use crate::motion::Contract;
use crate::skeleton::rotation::norm;
use crate::window::Pose2d;

pub(crate) const S: usize = 40;

/// A tiny random checkpoint whose root sits at standing height.
pub(crate) fn checkpoint(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("tiny.safetensors");
    let mut mean = vec![0.0; 151];
    mean[149] = 0.9;
    save_random_checkpoint_as(
        &path,
        &ModelConfig::tiny(S),
        Some(&MotionStats { mean, std: vec![0.3; 151] }),
        Some(Contract::CURRENT.name()),
    )
    .unwrap();
    path
}

pub(crate) fn lifter(dir: &Path) -> Lifter {
    Lifter::load(&checkpoint(dir)).unwrap()
}

/// Frame `i` of a performer drifting right at 30 fps; nobody in view when `!seen`.
pub(crate) fn pose(i: u64, seen: bool) -> Pose2d {
    let x = 640.0 + 2.0 * i as f32;
    let kp = std::array::from_fn(|j| if seen { [x + 10.0 * (j % 3) as f32, 200.0 + 25.0 * j as f32, 0.9] } else { [0.0; 3] });
    let now = Instant::now();
    Pose2d { seq: i, t: i as f64 / 30.0, captured: now, posed: now, keypoints: kp, seen, people: seen as u32 }
}

/// Runs `n` frames at 30 fps through the loop; frames in `gap` have nobody in view.
fn run(settings: &PipelineSettings, n: u64, gap: std::ops::Range<u64>) -> Vec<Outgoing> {
    run_with_stats(settings, n, gap, None).0
}

/// [`run`], also returning the run's [`Stats`]; `pace`: one pose per that interval instead of
/// bursts of seven.
fn run_with_stats(settings: &PipelineSettings, n: u64, gap: std::ops::Range<u64>, pace: Option<Duration>) -> (Vec<Outgoing>, Arc<Stats>) {
    let dir = tempfile::tempdir().unwrap();
    let stats = Arc::new(Stats::new());
    let (out, rx) = Fanout::channel(10_000, Arc::clone(&stats));
    let looped = DenoiseLoop::new(lifter(dir.path()), settings, out, Arc::clone(&stats));
    let (tx, prx) = crossbeam_channel::bounded(10_000);
    let h = std::thread::spawn(move || looped.run(prx));
    for i in 0..n {
        tx.send(pose(i, !gap.contains(&i))).unwrap();
        match pace {
            Some(d) => std::thread::sleep(d),
            None if i % 7 == 0 => std::thread::sleep(Duration::from_millis(2)),
            None => {}
        }
    }
    drop(tx);
    h.join().unwrap();
    assert_eq!(stats.drops(), 0);
    let mut rx = rx;
    (std::iter::from_fn(|| rx.try_recv().ok()).collect(), stats)
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
fn over_its_latency_budget_the_loop_steps_down_to_one_ddim_step_and_still_sends_everything() {
    // A budget of 1 µs no update can meet: the governor steps down 4 → 2 → 1, each after its
    // settling period, and the status line says so.
    let s = PipelineSettings { latency_budget: Some(Duration::from_micros(1)), hop: Some(1), ..PipelineSettings::default() };
    let (out, stats) = run_with_stats(&s, 120, 0..0, Some(Duration::from_millis(3)));
    check_stream(&out, 120);
    let by_steps = stats.updates_by_steps();
    assert_eq!(by_steps.keys().copied().collect::<Vec<_>>(), [1, 2, 4], "{by_steps:?}");
    // The first update (after the warm-up wait) is not judged; then one settling period a rung.
    assert_eq!((by_steps[&4], by_steps[&2]), (9, 8), "one settling period on each rung: {by_steps:?}");
    assert_eq!(stats.degradations.load(std::sync::atomic::Ordering::Relaxed), 2);
    let line = |st: &Stats| super::stats::StatusLine::new(st).tick(st);
    assert!(line(&stats).ends_with("| steps 1 (degraded: busy machine)"), "{}", line(&stats));
    // Without a budget every update runs the configured 4 steps.
    let s = PipelineSettings { latency_budget: None, hop: Some(1), ..PipelineSettings::default() };
    let (out, stats) = run_with_stats(&s, 60, 0..0, Some(Duration::from_millis(3)));
    check_stream(&out, 60);
    assert_eq!(stats.updates_by_steps().keys().copied().collect::<Vec<_>>(), [4]);
    assert!(line(&stats).ends_with("| steps 4"), "{}", line(&stats));
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

/// Arms hang down: both shoulders turned away from the T-pose and both wrists well below their
/// shoulders in forward kinematics.
fn arms_down(f: &crate::motion::MotionFrame) -> bool {
    use crate::skeleton::rotation::QUAT_IDENTITY;
    let j = f.joints();
    let turned = |q: [f32; 4]| (0..4).map(|c| (q[c] - QUAT_IDENTITY[c]).abs()).fold(0.0f32, f32::max) > 0.3;
    // SMPL: 16/17 shoulders, 20/21 wrists.
    turned(f.rotations[16]) && turned(f.rotations[17]) && j[20][1] < j[16][1] - 0.3 && j[21][1] < j[17][1] - 0.3
}

#[test]
fn nobody_ever_seen_stands_in_the_idle_pose_not_a_t_pose() {
    // Nobody at all: every frame sent is the standing idle pose, from the first one.
    let out = run(&PipelineSettings::default(), 40, 0..40);
    check_stream(&out, 40);
    for o in &out {
        assert!(arms_down(&o.frame), "frame {}: not the idle pose: {:?}", o.frame.frame, o.frame.rotations[16]);
        assert!(o.frame.inferred);
        assert!((o.frame.root[1] - 0.92).abs() < 1e-3, "standing height: {:?}", o.frame.root);
    }
    // Somebody arrives later: until then the avatar stands idle; then the model takes over.
    let s = PipelineSettings { return_blend: Duration::from_millis(300), ..PipelineSettings::default() };
    let out = run(&s, 90, 0..30);
    check_stream(&out, 90);
    assert!(out[..30].iter().all(|o| arms_down(&o.frame) && o.frame.inferred), "idle before anyone was seen");
    assert!(!out[89].frame.inferred, "live once the performer is seen and the blend is over");
}
