//! `mocapd::source` on real data: the demo video, image dirs, a local RTSP server.

mod bad_input;
mod rtsp;

use crate::support::demo::demo_video;
use crate::support::init_tracing;
use mocapd::source::{open, Frame, Pacing, SourceOptions, SourceSpec};
use opencv::core::{Mat, MatTraitConst, Scalar, Vec3b, CV_8UC3};
use opencv::imgcodecs;
use std::time::{Duration, Instant};

fn fast() -> SourceOptions {
    SourceOptions { pacing: Pacing::Fast, ..SourceOptions::default() }
}

fn drain(h: &mocapd::source::SourceHandle) -> Vec<Frame> {
    let mut frames = Vec::new();
    while let Some(f) = h.recv() {
        frames.push(f);
    }
    frames
}

#[test]
fn file_fast_delivers_every_frame_in_order() {
    init_tracing();
    let h = open(&SourceSpec::File(demo_video()), &fast()).expect("open demo");
    let info = h.info();
    assert_eq!((info.width, info.height), (1768, 994));
    assert!((info.fps - 30.0).abs() < 0.01, "fps {}", info.fps);
    assert_eq!(info.frame_count, Some(230));
    assert!(!info.live);
    let t0 = Instant::now();
    let frames = drain(&h);
    let secs = t0.elapsed().as_secs_f64();
    eprintln!("decoded {} frames in {secs:.2} s = {:.0} fps", frames.len(), frames.len() as f64 / secs);
    assert_eq!(frames.len(), 230);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.seq, i as u64);
        assert!((f.t - i as f64 / 30.0).abs() < 1e-6, "frame {i} t {}", f.t);
        assert_eq!((f.image.cols(), f.image.rows()), (1768, 994));
        assert_eq!(f.image.typ(), CV_8UC3);
    }
    assert!(frames.windows(2).all(|w| w[1].t > w[0].t && w[1].captured >= w[0].captured));
    let s = h.stats();
    assert_eq!((s.frames_read, s.frames_dropped), (230, 0));
    // Closed after the end: no more frames.
    assert!(h.recv().is_none());
}

#[test]
fn file_fast_never_drops_when_consumer_is_slow() {
    let opts = SourceOptions { queue_capacity: 2, ..fast() };
    let h = open(&SourceSpec::File(demo_video()), &opts).expect("open demo");
    std::thread::sleep(Duration::from_millis(500));
    let frames = drain(&h);
    assert_eq!(frames.len(), 230);
    assert_eq!(h.stats().frames_dropped, 0);
}

#[test]
fn file_native_paces_at_30fps() {
    let h = open(&SourceSpec::File(demo_video()), &SourceOptions::default()).expect("open demo");
    assert!(h.info().live, "a Native-paced file behaves like a live stream");
    let t0 = Instant::now();
    let mut seqs = Vec::new();
    for _ in 0..60 {
        seqs.push(h.recv_timeout(Duration::from_secs(2)).expect("frame").seq);
    }
    let secs = t0.elapsed().as_secs_f64();
    eprintln!("60 Native-paced frames took {secs:.2} s");
    assert!((1.6..3.0).contains(&secs), "60 frames at 30 fps took {secs:.2} s");
    assert_eq!(seqs, (0..60).collect::<Vec<u64>>(), "a keeping-up consumer loses nothing");
    assert_eq!(h.stats().frames_dropped, 0);
}

#[test]
fn file_native_drops_oldest_for_slow_consumer() {
    init_tracing();
    let opts = SourceOptions { queue_capacity: 4, ..SourceOptions::default() };
    let h = open(&SourceSpec::File(demo_video()), &opts).expect("open demo");
    assert_eq!(h.recv().expect("first").seq, 0);
    std::thread::sleep(Duration::from_millis(1500));
    let next = h.recv().expect("frame after sleep");
    let dropped = h.stats().frames_dropped;
    // ~45 frames were released during the sleep, only 4 fit in the queue.
    assert!(dropped >= 25, "dropped {dropped}");
    assert!(next.seq >= 25, "oldest frames should be gone, got seq {}", next.seq);
    let after: Vec<u64> = (0..3).map(|_| h.recv().expect("frame").seq).collect();
    assert!(after.windows(2).all(|w| w[1] > w[0]) && after[0] > next.seq);
}

/// Writes `n` solid-colour 64x48 PNGs (frame i has blue = 10*i) plus a non-image file.
fn write_images(dir: &std::path::Path, n: usize) {
    for i in (0..n).rev() {
        let m = Mat::new_rows_cols_with_default(48, 64, CV_8UC3, Scalar::new(10.0 * i as f64, 100.0, 200.0, 0.0)).expect("mat");
        let path = dir.join(format!("frame_{i:03}.png"));
        assert!(imgcodecs::imwrite_def(&path, &m).expect("imwrite"), "imwrite {}", path.display());
    }
    std::fs::write(dir.join("notes.txt"), "not an image").expect("write notes");
}

fn blue(f: &Frame) -> u8 {
    f.image.at_2d::<Vec3b>(10, 10).expect("pixel")[0]
}

#[test]
fn image_dir_in_name_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_images(dir.path(), 5);
    let spec = SourceSpec::ImageDir { path: dir.path().to_path_buf(), fps: 10.0 };
    let h = open(&spec, &fast()).expect("open dir");
    let info = h.info();
    assert_eq!((info.width, info.height, info.frame_count), (64, 48, Some(5)));
    let frames = drain(&h);
    assert_eq!(frames.iter().map(|f| f.seq).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    assert_eq!(frames.iter().map(blue).collect::<Vec<_>>(), vec![0, 10, 20, 30, 40]);
    assert!((frames[3].t - 0.3).abs() < 1e-9);
    // Parsed from a string, a directory gets the default 30 fps.
    let parsed = SourceSpec::parse(&dir.path().display().to_string()).expect("parse");
    assert_eq!(parsed, SourceSpec::ImageDir { path: dir.path().to_path_buf(), fps: 30.0 });
}

#[test]
fn image_dir_loops_with_increasing_seq_and_t() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_images(dir.path(), 3);
    let spec = SourceSpec::ImageDir { path: dir.path().to_path_buf(), fps: 30.0 };
    let h = open(&spec, &SourceOptions { loop_file: true, ..fast() }).expect("open dir");
    let frames: Vec<Frame> = (0..7).map(|_| h.recv().expect("looping never ends")).collect();
    assert_eq!(frames.iter().map(blue).collect::<Vec<_>>(), vec![0, 10, 20, 0, 10, 20, 0]);
    assert!(frames.windows(2).all(|w| w[1].seq == w[0].seq + 1 && w[1].t > w[0].t));
}

#[test]
fn drop_joins_a_blocked_fast_source_promptly() {
    let h = open(&SourceSpec::File(demo_video()), &fast()).expect("open demo");
    std::thread::sleep(Duration::from_millis(300)); // queue full, thread blocked on send
    let t0 = Instant::now();
    assert!(h.close(), "thread should be joined");
    assert!(t0.elapsed() < Duration::from_secs(2), "close took {:?}", t0.elapsed());
}
