//! The demo clip and MoveNet over it. `assets/demo.mp4` (1768x994, 30 fps, 230 frames): a man
//! (the performer) stands on a box (frames 0-120, upper middle left), takes off and back-flips
//! against the sun (121-194; all MoveNet models lose him there at times), lands at the lower
//! right and crouches (195-229). A woman walks right to left below the box (frames ~40-195).
//!
//! MoveNet is slow on the CI's cores, so the default model's poses are made once per test binary
//! ([`demo_poses`]) and shared by every test that needs them; only tests of another model or of
//! the CLI itself run their own pass over the clip.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mocapd::pose::record::{Header, KeypointWriter};
use mocapd::pose::{PoseEstimator, PoseFrame, PoseSettings};
use mocapd::source::{open, Pacing, SourceOptions, SourceSpec};

/// The demo clip's path relative to the repository root (how the CLI tests name it).
pub const DEMO: &str = "assets/demo.mp4";
/// Its frame count.
pub const DEMO_FRAMES: usize = 230;

/// The demo clip's absolute path.
pub fn demo_video() -> PathBuf {
    super::manifest_dir().join(DEMO)
}

/// One pass of a pose model over every frame of the demo clip.
pub struct DemoRun {
    pub fps: f64,
    pub frames: Vec<PoseFrame>,
    /// `PoseEstimator::performer_id()` after each frame.
    pub performer: Vec<Option<u32>>,
}

/// Runs the pose estimator with `settings` over the demo clip, read the way `mocapd keypoints`
/// reads it (the library's file source, as fast as the estimator goes, no frame dropped).
pub fn estimate_demo(settings: &PoseSettings) -> DemoRun {
    let mut est = PoseEstimator::new(settings).expect("load pose model");
    let source = open(&SourceSpec::File(demo_video()), &SourceOptions { pacing: Pacing::Fast, ..SourceOptions::default() })
        .expect("open assets/demo.mp4");
    let fps = source.info().fps;
    let (mut frames, mut performer) = (Vec::new(), Vec::new());
    let (mut infer, mut total) = (Duration::ZERO, Duration::ZERO);
    while let Some(frame) = source.recv() {
        let start = Instant::now();
        frames.push(est.estimate(&frame.image, frame.seq, frame.t).expect("estimate"));
        total += start.elapsed();
        infer += est.stage_times().infer;
        performer.push(est.performer_id());
    }
    assert_eq!(frames.len(), DEMO_FRAMES, "assets/demo.mp4 should have {DEMO_FRAMES} frames");
    let n = frames.len() as u32;
    eprintln!(
        "{}: MoveNet {:.1} ms/frame, estimate {:.1} ms/frame",
        settings.model_kind,
        (infer / n).as_secs_f64() * 1e3,
        (total / n).as_secs_f64() * 1e3
    );
    DemoRun { fps, frames, performer }
}

/// The demo clip's poses with the default settings (what `mocapd keypoints` does without a
/// config), and the same written as a `mocapd.keypoints/1` file.
pub struct DemoPoses {
    pub settings: PoseSettings,
    pub run: DemoRun,
    /// `demo.kp.jsonl` in the build's scratch folder (`CARGO_TARGET_TMPDIR`), rewritten by each
    /// test binary's first call.
    pub keypoints: PathBuf,
}

/// [`DemoPoses`], made once per test binary.
pub fn demo_poses() -> &'static DemoPoses {
    static POSES: OnceLock<DemoPoses> = OnceLock::new();
    POSES.get_or_init(|| {
        let settings = PoseSettings::default();
        let run = estimate_demo(&settings);
        let keypoints = Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo.kp.jsonl");
        // Written aside and renamed: another test binary may be reading the file.
        let partial = keypoints.with_extension(format!("{}.partial", std::process::id()));
        let first = &run.frames[0];
        let mut w = KeypointWriter::create(&partial, &Header::new(run.fps, first.width, first.height, DEMO)).expect("create keypoint file");
        for f in &run.frames {
            w.write(f).expect("write keypoints");
        }
        w.finish().expect("finish keypoint file");
        std::fs::rename(&partial, &keypoints).expect("rename keypoint file");
        DemoPoses { settings, run, keypoints }
    })
}
