//! Bad inputs give clear errors (asserted on message text) or a clean end, never a panic.

use super::drain;
use crate::support::demo::demo_video;
use crate::support::{error_text, free_port, init_tracing};
use mocapd::source::{open, Pacing, SourceError, SourceOptions, SourceSpec};
use std::time::{Duration, Instant};

fn open_err(spec: &SourceSpec, opts: &SourceOptions) -> String {
    error_text(open(spec, opts), format_args!("opening {spec} should fail"))
}

#[test]
fn missing_file() {
    let msg = open_err(&SourceSpec::parse("no/such/clip.mp4").expect("parse"), &SourceOptions::default());
    assert_eq!(msg, "video file 'no/such/clip.mp4' not found: check the path");
}

#[test]
fn corrupt_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("garbage.mp4");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(&path, bytes).expect("write");
    let msg = open_err(&SourceSpec::File(path.clone()), &SourceOptions::default());
    assert!(msg.contains("is not a readable video (corrupt or unsupported codec)"), "{msg}");
    assert!(msg.contains(&format!("ffmpeg -i {}", path.display())), "{msg}");
}

#[test]
fn truncated_file_ends_cleanly() {
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cut.mp4");
    let bytes = std::fs::read(demo_video()).expect("read demo");
    std::fs::write(&path, &bytes[..bytes.len() * 4 / 10]).expect("write");
    let opts = SourceOptions { pacing: Pacing::Fast, ..SourceOptions::default() };
    let h = open(&SourceSpec::File(path), &opts).expect("truncated file still opens");
    let frames = drain(&h);
    eprintln!("truncated demo (40 % of bytes) decoded {} frames", frames.len());
    assert!(frames.len() >= 20 && frames.len() < 230, "decoded {} frames", frames.len());
    assert!(frames.iter().enumerate().all(|(i, f)| f.seq == i as u64));
}

#[test]
fn missing_camera() {
    for s in ["/dev/video99", "99"] {
        let msg = open_err(&SourceSpec::parse(s).expect("parse"), &SourceOptions::default());
        assert_eq!(msg, "cannot open camera /dev/video99: no such device (list cameras with v4l2-ctl --list-devices)");
    }
}

#[test]
fn rtsp_closed_port_fails_fast_without_retry() {
    let url = format!("rtsp://127.0.0.1:{}/test", free_port());
    let opts = SourceOptions { retry_first_open: false, ..SourceOptions::default() };
    let t0 = Instant::now();
    let msg = open_err(&SourceSpec::parse(&url).expect("parse"), &opts);
    let took = t0.elapsed();
    eprintln!("closed-port RTSP open failed after {took:?}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert_eq!(msg, format!("RTSP stream {url} did not answer within 5 s: check the URL and that the server is running"));
}

#[test]
fn empty_and_missing_image_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("readme.txt"), "x").expect("write");
    let spec = SourceSpec::ImageDir { path: dir.path().to_path_buf(), fps: 30.0 };
    let msg = open_err(&spec, &SourceOptions::default());
    assert!(msg.starts_with(&format!("image directory '{}' has no .png/.jpg/.jpeg/.bmp images", dir.path().display())), "{msg}");
    let gone = SourceSpec::parse("no/such/frames/").expect("parse");
    assert_eq!(open_err(&gone, &SourceOptions::default()), "image directory 'no/such/frames/' not found: check the path");
}

#[test]
fn keypoints_file_is_not_opened() {
    let spec = SourceSpec::parse("take1.jsonl").expect("parse");
    assert_eq!(spec, SourceSpec::Keypoints("take1.jsonl".into()));
    assert!(matches!(open(&spec, &SourceOptions::default()), Err(SourceError::KeypointsFile(_))));
}
