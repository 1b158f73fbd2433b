//! `mocapd lift --preview` and the reprojection error: the weak-perspective fit on closed forms
//! (an exact projection fits back with zero error, detection noise makes it grow, unconfident
//! joints are left out), the PNG contact sheet and the MP4 written and decodable at the expected
//! size and frame count (on the demo video with a tiny random checkpoint, and on a blank canvas
//! for a synthetic keypoint file), and bad paths giving one clear message before any lifting.

use std::path::{Path, PathBuf};

use mocapd::lift::preview::{PreviewKind, BANNER_H, SHEET_FRAMES};
use mocapd::lift::reproject::{lifted_coco, reproject_motion, reprojection_error, WeakPerspective, BLOCK_FRAMES};
use mocapd::lift::LiftOptions;
use mocapd::model::{save_random_checkpoint_as, ModelConfig, MotionStats};
use mocapd::motion::{Contract, Frame2d, MotionFrame};
use mocapd::pose::record::{Header, KeypointWriter};
use mocapd::pose::{Keypoint, Person, PoseFrame};
use mocapd::skeleton::coco::coco_from_pose;
use mocapd::skeleton::rotation::axis_angle_to_quat;
use opencv::prelude::{MatTraitConst, VideoCaptureTrait, VideoCaptureTraitConst};

use crate::support::demo::{demo_poses, DEMO_FRAMES};
use crate::support::{fails_with, mocapd, tiny_checkpoint};

/// A body walking along x while swinging its left arm and bending its right knee.
fn motion(n: usize) -> Vec<MotionFrame> {
    (0..n)
        .map(|i| {
            let a = i as f32 * 0.1;
            let mut f = MotionFrame::rest(i as u64, i as f64 / 30.0);
            f.root = [0.01 * i as f32, 0.95 + 0.02 * a.sin(), -0.005 * i as f32];
            f.rotations[16] = axis_angle_to_quat([0.0, 0.0, -1.2 + 0.6 * a.sin()]); // left shoulder
            f.rotations[5] = axis_angle_to_quat([0.8 * a.cos().abs(), 0.0, 0.0]); // right knee
            f
        })
        .collect()
}

/// Detections of `frames` through `cam`, confidence 0.9, each coordinate moved by up to ±`noise`
/// pixels (a fixed pseudo-random sequence).
fn detections(frames: &[MotionFrame], cam: &WeakPerspective, noise: f32) -> Vec<Frame2d> {
    let mut state = 12345u64;
    let mut jitter = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        noise * (2.0 * ((state >> 40) as f32 / (1u64 << 24) as f32) - 1.0)
    };
    lifted_coco(frames).iter().map(|p| p.map(|q| cam.project(q)).map(|[u, v]| [u + jitter(), v + jitter(), 0.9])).collect()
}

#[test]
fn reprojection_of_a_known_camera_is_zero_and_grows_with_noise() {
    let frames = motion(200);
    let cam = WeakPerspective { scale: 260.0, tx: 700.0, ty: 520.0 };
    let exact = reproject_motion(&frames, &detections(&frames, &cam, 0.0)).unwrap();
    assert!(exact.mean_px < 1e-2 && exact.percent_of_height < 1e-2, "{exact:?}");
    assert_eq!(exact.blocks.iter().map(|b| (b.start, b.frames)).collect::<Vec<_>>(), [(0, BLOCK_FRAMES), (150, 50)]);
    for b in &exact.blocks {
        let c = b.camera;
        assert!((c.scale - 260.0).abs() < 0.05 && (c.tx - 700.0).abs() < 0.05 && (c.ty - 520.0).abs() < 0.05, "{c:?}");
    }
    // The person's height: the detections' vertical extent (about 1.6 m at 260 px/m).
    assert!((350.0..480.0).contains(&exact.height_px), "height {}", exact.height_px);
    assert_eq!(exact.joints, 200 * 12);

    let mut last = exact.mean_px;
    for noise in [2.0, 8.0, 32.0] {
        let r = reproject_motion(&frames, &detections(&frames, &cam, noise)).unwrap();
        // Uniform ±a on both axes: mean distance about 0.77 a (a little less after the fit).
        assert!(r.mean_px > last && (0.5 * noise..0.9 * noise).contains(&(r.mean_px as f32)), "noise {noise}: {} px", r.mean_px);
        assert!((r.percent_of_height - 100.0 * r.mean_px / r.height_px).abs() < 1e-9);
        last = r.mean_px;
    }

    // A wrong detection under 0.3 confidence is ignored; at 0.3 it counts.
    let mut kp = detections(&frames, &cam, 0.0);
    kp[10][9] = [0.0, 0.0, 0.29];
    let r = reprojection_error(&lifted_coco(&frames), &kp, BLOCK_FRAMES).unwrap();
    assert!(r.mean_px < 1e-2 && r.joints == 200 * 12 - 1, "{r:?}");
    kp[10][9][2] = 0.3;
    assert!(reprojection_error(&lifted_coco(&frames), &kp, BLOCK_FRAMES).unwrap().mean_px > 0.5);
    // Nothing confident: no error at all. A camera cannot turn the picture upside down: the
    // scale stays >= 0 (the fit of a point-reflected picture is 0).
    let none: Vec<Frame2d> = kp.iter().map(|k| k.map(|[x, y, _]| [x, y, 0.1])).collect();
    assert!(reproject_motion(&frames, &none).is_none());
    let p = coco_from_pose(&frames[0].rotations, frames[0].root);
    let reflected: Vec<_> = p.iter().map(|&q| (q, cam.project(q).map(|v| -v))).collect();
    assert_eq!(WeakPerspective::fit(&reflected).unwrap().scale, 0.0);
}

/// A keypoint file of [`motion`] seen through a weak-perspective camera, recorded from `source`.
fn keypoint_file(path: &Path, n: usize, source: &str) {
    let cam = WeakPerspective { scale: 300.0, tx: 640.0, ty: 420.0 };
    let frames = motion(n);
    let mut w = KeypointWriter::create(path, &Header::new(30.0, 1280, 720, source)).unwrap();
    for (i, kp) in detections(&frames, &cam, 1.0).iter().enumerate() {
        let keypoints = std::array::from_fn(|j| Keypoint { x: kp[j][0], y: kp[j][1], c: if j == 0 { 0.2 } else { 0.9 } });
        let people = vec![Person { id: 1, score: 0.9, bbox: [400.0, 100.0, 900.0, 700.0], keypoints }];
        w.write(&PoseFrame { frame: i as u64, t: i as f64 / 30.0, width: 1280, height: 720, performer: Some(1), people }).unwrap();
    }
    w.finish().unwrap();
}

fn small_checkpoint(dir: &Path) -> PathBuf {
    let path = dir.join("tiny40.safetensors");
    let mut mean = vec![0.0f32; 151];
    mean[149] = 0.9;
    let stats = MotionStats { mean, std: vec![0.5; 151] };
    save_random_checkpoint_as(&path, &ModelConfig::tiny(40), Some(&stats), Some(Contract::CURRENT.name())).unwrap();
    path
}

/// Frames and size of a video, read back with OpenCV.
fn read_video(path: &Path) -> (usize, i32, i32) {
    let mut cap = opencv::videoio::VideoCapture::from_file(path.to_str().unwrap(), opencv::videoio::CAP_ANY).unwrap();
    assert!(cap.is_opened().unwrap(), "{} does not open", path.display());
    let (mut n, mut size) = (0, (0, 0));
    let mut m = opencv::core::Mat::default();
    while cap.read(&mut m).unwrap() && !m.empty() {
        n += 1;
        size = (m.cols(), m.rows());
    }
    (n, size.0, size.1)
}

/// Without a video the keypoints are drawn on a blank canvas of the recorded size: the library
/// call, a sheet of 8 rows and a video of every frame.
#[test]
fn preview_on_a_blank_canvas() {
    let dir = tempfile::tempdir().unwrap();
    let kp = dir.path().join("k.jsonl");
    keypoint_file(&kp, 70, "no-such-video.mp4");
    let opts = LiftOptions { checkpoint: small_checkpoint(dir.path()), steps: 2, hop: 20, ..Default::default() };
    let png = dir.path().join("sheet/p.png");
    let r = mocapd::commands::lift::run(&kp, &dir.path().join("m.jsonl"), &opts, Some(&png), None).unwrap();
    let p = r.preview.clone().unwrap();
    assert_eq!((p.kind, p.frames, p.video.as_ref()), (PreviewKind::Sheet, SHEET_FRAMES, None));
    let img = opencv::imgcodecs::imread_def(png.to_str().unwrap()).unwrap();
    assert_eq!((img.cols(), img.rows()), (p.width, p.height));
    // Three panels of 270 px per row: the input at 16:9 (480) and two 3:4 views (202 each).
    assert_eq!((p.width, p.height), (480 + 2 * 202, BANNER_H + 8 * 270));
    let e = r.reprojection.unwrap();
    assert!(e.mean_px.is_finite() && e.blocks.len() == 1 && (400.0..560.0).contains(&e.height_px), "{e:?}");

    let mp4 = dir.path().join("p.mp4");
    let r = mocapd::commands::lift::run(&kp, &dir.path().join("m.bvh"), &opts, Some(&mp4), None).unwrap();
    let p = r.preview.unwrap();
    assert_eq!((p.kind, p.frames), (PreviewKind::Video, 70));
    assert_eq!(read_video(&mp4), (70, p.width, p.height));
}

/// The CLI on the demo video's keypoints (whose header names `assets/demo.mp4`): a sheet and a
/// video of every frame, drawn on the video, and the reprojection error in the summary.
#[test]
fn preview_of_the_demo_lift() {
    let dir = tempfile::tempdir().unwrap();
    let ck = tiny_checkpoint(dir.path());
    let kp = demo_poses().keypoints.to_str().unwrap().to_string();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (png, mp4) = (p("demo.png"), p("demo.mp4"));
    for (out, preview) in [(p("m.jsonl"), &png), (p("m.bvh"), &mp4)] {
        let run = mocapd(&["lift", &kp, "--out", &out, "--checkpoint", ck.to_str().unwrap(), "--steps", "2", "--preview", preview]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stderr}");
        assert!(stderr.contains("reprojection error: ") && stderr.contains("% of the performer's"), "{stderr}");
        assert!(stderr.contains(&format!("preview: {preview}")) && stderr.contains("on assets/demo.mp4"), "{stderr}");
    }
    let img = opencv::imgcodecs::imread_def(&png).unwrap();
    assert_eq!((img.cols(), img.rows()), (480 + 2 * 202, BANNER_H + 8 * 270));
    // 540 px panels: the 1768x994 video at 960, the two 3D views at 406.
    assert_eq!(read_video(Path::new(&mp4)), (DEMO_FRAMES, 960 + 2 * 406, 540));
    if let Ok(out) = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", &mp4])
        .output()
    {
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), DEMO_FRAMES.to_string(), "ffprobe");
    }
}

/// A wrong preview extension, a missing video, or --video without --preview: one clear message,
/// before anything is lifted or written.
#[test]
fn bad_preview_paths_give_one_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let kp = dir.path().join("k.jsonl");
    keypoint_file(&kp, 10, "synthetic");
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (kp, out) = (kp.to_str().unwrap().to_string(), p("m.jsonl"));
    fails_with(&["lift", &kp, "--out", &out, "--preview", &p("p.gif")], "p.gif: use a .png or .jpg");
    fails_with(&["lift", &kp, "--out", &out, "--preview", &p("p.png"), "--video", &p("none.mp4")], "--video: video file");
    fails_with(&["lift", &kp, "--out", &out, "--preview", &p("p.png"), "--video", dir.path().to_str().unwrap()], "is a directory");
    fails_with(&["lift", &kp, "--out", &out, "--video", &p("none.mp4")], "--preview");
    assert!(!Path::new(&out).exists() && !Path::new(&p("p.png")).exists(), "nothing is written");
}
