//! The `mocapd` binary end to end: the keypoints job on the demo video (one run per kind of
//! preview, each checked for the keypoint file too), bad input and out-of-range numbers giving
//! one clear message and a non-zero exit, never a panic, and the binary run from another
//! working directory.

use std::path::Path;

use crate::support::demo::{demo_poses, demo_video, DEMO, DEMO_FRAMES};
use crate::support::{fails_with, mocapd, mocapd_command};
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

/// Every number on the command line is range-checked before anything runs, like a config key:
/// the message names the flag and its range, and nothing is written.
#[test]
fn cli_numbers_are_validated_like_config_keys() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (kp, out) = (p("none.jsonl"), p("o.jsonl"));
    let lift = |flag: &str, v: &str, needle: &str| fails_with(&["lift", &kp, "--out", &out, flag, v], needle);
    for g in ["nan", "NaN", "inf", "-inf", "-5", "20.5"] {
        lift("--guidance", g, "--guidance must be a finite weight in [0, 20]");
    }
    fails_with(&["lift", &kp, "--out", &out, "--guidance=-inf"], "--guidance must be a finite weight in [0, 20]");
    lift("--steps", "100000", "--steps must be in 1..=1000");
    lift("--steps", "0", "--steps must be in 1..=1000");
    lift("--hop", "0", "--hop must be at least 1");
    // The window's length comes from the checkpoint: checked once it is loaded, before the input.
    lift("--hop", "151", "--hop must be in 1..=150");
    assert!(!Path::new(&out).exists(), "nothing is written");

    let data = p("no-data");
    fails_with(&["eval", "--data", &data, "--steps", "1001"], "--steps must be in 1..=1000");
    fails_with(&["eval", "--data", &data, "--guidance", "nan"], "--guidance must be a finite weight in [0, 20]");
    fails_with(&["eval", "--data", &data, "--streaming", "--hop", "0"], "--hop must be at least 1");

    for d in ["0", "-1", "nan", "inf", "-inf"] {
        fails_with(&["bench", DEMO, "--duration", d], "--duration must be a finite number of seconds > 0");
    }
    // Training moved to PyTorch: `mocapd train` (with any arguments) says how to run it.
    for args in [&["train"][..], &["train", "--resume", "--config", "x.toml"]] {
        fails_with(args, "python -m mocapd_train --config config/train.toml");
    }
    let build = |flag: &str, v: &str, needle: &str| fails_with(&["data", "build", "--raw", &data, "--out", &p("built"), flag, v], needle);
    build("--cameras", "0", "--cameras must be at least 1");
    for m in ["nan", "-1", "inf"] {
        build("--procedural-minutes", m, "--procedural-minutes must be a finite number of minutes >= 0");
    }
    build("--max-procedural-share", "1.5", "--max-procedural-share must be in [0, 1]");
    assert!(!dir.path().join("built").exists(), "nothing is built");
}

/// `mocapd eval`'s own flags (split, views, step lists) are checked before anything is loaded:
/// one message naming the flag, never a panic.
#[test]
fn eval_flags_are_checked_before_anything_loads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("no-data");
    let data = data.to_str().unwrap();
    fails_with(&["eval", "--data", data, "--split", "train"], "--split must be `test` (held-out subjects) or `val`");
    fails_with(&["eval", "--data", data, "--views", "two"], "--views must be `all` or `one`");
    fails_with(&["eval", "--data", data, "--steps", "1,0,8"], "--steps must be in 1..=1000");
    fails_with(&["eval", "--data", data, "--steps", "4,x"], "--steps");
    // Good flags reach the data set, which is missing here.
    fails_with(&["eval", "--data", data, "--split", "val", "--steps", "1,4", "--views", "one"], "no built data set");
}

/// Messages: each cause once, no colour codes when stderr is not a terminal, what to do on a
/// fresh clone, a short message for an empty video, and hints that name what the command has.
#[test]
fn messages_say_each_cause_once_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();

    // One cause, printed once; the log line before it has no ANSI colours (stderr is a pipe).
    let out = mocapd(&["lift", &p("no-such.jsonl"), "--out", &p("o.jsonl")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no-such.jsonl") && stderr.matches("os error 2").count() == 1, "cause repeated:\n{stderr}");
    assert!(stderr.contains("INFO") && !stderr.contains('\x1b'), "colour codes in a log that is not a terminal:\n{stderr:?}");

    // A fresh clone has no data set: eval and data stats say how to make one.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for d in [p("missing"), empty.to_str().unwrap().to_string()] {
        fails_with(&["eval", "--data", &d], "run `mocapd data fetch` then `mocapd data build`");
        fails_with(&["data", "stats", "--dir", &d], "run `mocapd data fetch` then `mocapd data build`");
    }

    // A 0-byte video: one short message, no page of GStreamer warnings before it.
    let video = dir.path().join("empty.mp4");
    std::fs::write(&video, b"").unwrap();
    let out = mocapd(&["keypoints", video.to_str().unwrap(), "--out", &p("k.jsonl")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("empty.mp4' is empty (0 bytes)"), "{stderr}");
    assert!(!stderr.contains("CRITICAL") && stderr.lines().count() <= 4, "{} lines:\n{stderr}", stderr.lines().count());
    fails_with(&["run", video.to_str().unwrap()], "is empty (0 bytes)");

    // `run` has no --model or --checkpoint: its hints name the config keys.
    let cfg = dir.path().join("model.toml");
    std::fs::write(&cfg, "[pose]\nmodel_path = \"models/missing.onnx\"\n").unwrap();
    fails_with(&["--config", cfg.to_str().unwrap(), "run", DEMO], "set pose.model_path in the config");
    let cfg = dir.path().join("ck.toml");
    std::fs::write(&cfg, "[pipeline]\ncheckpoint = \"models/missing.safetensors\"\n").unwrap();
    fails_with(&["--config", cfg.to_str().unwrap(), "run", DEMO], "pipeline.checkpoint in the config (`run`, `bench`)");
    fails_with(&["lift", &p("k.jsonl"), "--out", &p("o.jsonl"), "--checkpoint", &p("none.safetensors")], "--checkpoint (`lift`, `eval`)");
}

/// The binary finds its models, checkpoint and ONNX Runtime from any working directory (beside
/// the executable: target/release/mocapd → the repository root).
#[test]
fn works_from_any_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let kp = dir.path().join("k.jsonl");
    let run = mocapd_command()
        .current_dir(dir.path())
        .args(["keypoints", demo_video().to_str().unwrap(), "--out", kp.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success(), "keypoints from another directory: {}", String::from_utf8_lossy(&run.stderr));
    let out = dir.path().join("m.jsonl");
    let run = mocapd_command()
        .current_dir(dir.path())
        .args(["lift", kp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "2"])
        .output()
        .unwrap();
    assert!(run.status.success(), "lift from another directory: {}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), DEMO_FRAMES + 1, "header and one line per frame");
}
