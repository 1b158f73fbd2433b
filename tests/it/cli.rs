//! The `mocapd` binary end to end: the keypoints job on the demo video (one run per kind of
//! preview, each checked for the keypoint file too), and bad input giving one clear message and a
//! non-zero exit, never a panic.

use std::path::Path;

use crate::support::demo::{demo_poses, DEMO, DEMO_FRAMES};
use crate::support::{fails_with, mocapd};
use mocapd::pose::record::KeypointReader;
use opencv::prelude::{MatTraitConst, VideoCaptureTrait, VideoCaptureTraitConst};

/// `mocapd keypoints assets/demo.mp4 --out OUT --preview PREVIEW` succeeds.
fn keypoints_with_preview(out: &Path, preview: &Path) {
    let run = mocapd(&["keypoints", DEMO, "--out", out.to_str().unwrap(), "--preview", preview.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

/// The keypoint file the CLI wrote for the demo: every frame, the performer seen and never
/// renamed, and exactly the poses the library gives with the same (default) settings.
fn check_demo_keypoints(path: &Path) {
    let (header, frames) = KeypointReader::open(path).unwrap().read_all().unwrap();
    assert_eq!((header.width, header.height), (1768, 994));
    assert!((header.fps - 30.0).abs() < 0.01);
    assert_eq!(frames.len(), DEMO_FRAMES, "every frame of the file gets a line");
    let seen = frames.iter().filter(|f| f.performer().is_some()).count();
    // He is lost only in the back-flip against the sun (tests/it/pose.rs checks the tracking in detail).
    assert!(seen >= 175, "performer seen in only {seen}/230 frames");
    let ids: std::collections::BTreeSet<u32> = frames.iter().filter_map(|f| f.performer).collect();
    assert_eq!(ids.len(), 1, "the performer changed identity: {ids:?}");
    assert!(frames.iter().all(|f| f.performer().is_none() || f.people[0].id == f.performer.unwrap()));
    // The same file, byte for byte, as the library's pass with the default settings writes.
    let (cli, library) = (std::fs::read_to_string(path).unwrap(), std::fs::read_to_string(&demo_poses().keypoints).unwrap());
    if let Some((i, (a, b))) = cli.lines().zip(library.lines()).enumerate().find(|(_, (a, b))| a != b) {
        panic!("the CLI's keypoint file differs from the library's at line {}:\n{a}\n{b}", i + 1);
    }
    assert_eq!(cli.len(), library.len(), "the CLI's keypoint file and the library's differ in length");
}

#[test]
fn keypoints_on_the_demo_video_with_preview() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.jsonl");
    let png = dir.path().join("demo.png");
    keypoints_with_preview(&out, &png);
    check_demo_keypoints(&out);
    let png = opencv::imgcodecs::imread_def(png.to_str().unwrap()).unwrap();
    assert!(png.cols() >= 4 * 480 && png.rows() > 0, "contact sheet is {}x{}", png.cols(), png.rows());
}

#[test]
fn bad_input_gives_one_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.jsonl");
    let out = out.to_str().unwrap();
    fails_with(&["keypoints", "no/such/video.mp4", "--out", out], "no/such/video.mp4");
    let corrupt = dir.path().join("corrupt.mp4");
    std::fs::write(&corrupt, vec![0x5au8; 100_000]).unwrap();
    fails_with(&["keypoints", corrupt.to_str().unwrap(), "--out", out], "corrupt.mp4");
    fails_with(&["keypoints", "/dev/video99", "--out", out], "/dev/video99");

    let model_cfg = dir.path().join("model.toml");
    std::fs::write(&model_cfg, "[pose]\nmodel_path = \"models/missing.onnx\"\n").unwrap();
    fails_with(&["--config", model_cfg.to_str().unwrap(), "keypoints", DEMO, "--out", out], "models/missing.onnx");
    let wrong_cfg = dir.path().join("wrong.toml");
    std::fs::write(&wrong_cfg, "[pose]\nmodel = \"thunder\"\nmodel_path = \"models/movenet-lightning.onnx\"\n").unwrap();
    fails_with(&["--config", wrong_cfg.to_str().unwrap(), "keypoints", DEMO, "--out", out], "movenet-lightning.onnx");
    let ort_cfg = dir.path().join("ort.toml");
    std::fs::write(&ort_cfg, "[pose]\nonnxruntime = \"/nonexistent/libonnxruntime.so\"\n").unwrap();
    fails_with(&["--config", ort_cfg.to_str().unwrap(), "keypoints", DEMO, "--out", out], "/nonexistent/libonnxruntime.so");

    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "[pose]\nmodle = \"thunder\"\n").unwrap();
    fails_with(&["--config", typo.to_str().unwrap(), "keypoints", DEMO, "--out", out], "modle");
    let range = dir.path().join("range.toml");
    std::fs::write(&range, "[pose]\nmin_confidence = 3.0\n").unwrap();
    fails_with(&["--config", range.to_str().unwrap(), "keypoints", DEMO, "--out", out], "pose.min_confidence");
    fails_with(&["keypoints", DEMO, "--out", out, "--model", "tiny"], "tiny");
}

#[test]
fn video_preview_has_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.jsonl");
    let mp4 = dir.path().join("preview.mp4");
    keypoints_with_preview(&out, &mp4);
    check_demo_keypoints(&out);
    let mut cap = opencv::videoio::VideoCapture::from_file_def(mp4.to_str().unwrap()).unwrap();
    assert!(cap.is_opened().unwrap());
    let mut frame = opencv::core::Mat::default();
    let mut n = 0;
    while cap.read(&mut frame).unwrap() {
        n += 1;
    }
    assert_eq!(n, DEMO_FRAMES);
}
