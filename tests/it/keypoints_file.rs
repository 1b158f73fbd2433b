//! The `mocapd.keypoints/1` format: round trip, and clear errors on malformed files.

use crate::support::error_text;
use mocapd::pose::record::{Header, KeypointReader, KeypointWriter, RecordError};
use mocapd::pose::{Keypoint, Person, PoseFrame, NUM_KEYPOINTS};
use std::io::Write;

fn person(id: u32, seed: f32) -> Person {
    let mut keypoints = [Keypoint::default(); NUM_KEYPOINTS];
    for (i, k) in keypoints.iter_mut().enumerate() {
        let f = i as f32;
        *k = Keypoint { x: 100.123_46 + seed * f, y: 7.0 / 3.0 * f + seed, c: (f / 17.0 + seed / 1000.0).min(1.0) };
    }
    Person { id, score: 0.876_543_2, bbox: [10.5, 20.25, 300.125, 640.0625], keypoints }
}

fn sample_frames() -> Vec<PoseFrame> {
    (0..5u64)
        .map(|i| PoseFrame {
            frame: i,
            t: i as f64 / 30.0,
            width: 1768,
            height: 994,
            performer: (i != 4).then_some(1),
            // Frame 2 has nobody; frame 3 has two people.
            people: match i {
                2 => vec![],
                3 => vec![person(1, i as f32), person(4, 0.5)],
                _ => vec![person(1, i as f32)],
            },
        })
        .collect()
}

#[test]
fn round_trip_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/k.jsonl");
    let header = Header::new(30.0, 1768, 994, "assets/demo.mp4");
    let frames = sample_frames();
    let mut w = KeypointWriter::create(&path, &header).unwrap();
    for f in &frames {
        w.write(f).unwrap();
    }
    w.finish().unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        r#"{"format":"mocapd.keypoints/1","fps":30.0,"width":1768,"height":994,"layout":"coco17","source":"assets/demo.mp4"}"#
    );
    assert!(text.lines().nth(3).unwrap().contains(r#""people":[]"#));

    let (h, back) = KeypointReader::open(&path).unwrap().read_all().unwrap();
    assert_eq!(h, header);
    assert_eq!(back, frames);
}

fn write_file(lines: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    (dir, path)
}

const HEADER: &str = r#"{"format":"mocapd.keypoints/1","fps":30.0,"width":640,"height":480,"layout":"coco17","source":"x"}"#;

fn read_err(lines: &[&str]) -> String {
    let (_d, path) = write_file(lines);
    error_text(KeypointReader::open(&path).and_then(|r| r.read_all()), format_args!("malformed file {lines:?} was accepted"))
}

fn kps(n: usize, c: &str) -> String {
    let one = format!("[1.0,2.0,{c}]");
    vec![one; n].join(",")
}

#[test]
fn malformed_files_give_clear_errors() {
    let missing = KeypointReader::open(std::path::Path::new("/nonexistent/k.jsonl")).err().unwrap();
    assert!(matches!(missing, RecordError::Open { .. }));
    assert!(missing.to_string().contains("/nonexistent/k.jsonl"));

    assert!(read_err(&[]).contains("is empty"));
    assert!(read_err(&["not json"]).contains(":1: not a 'mocapd.keypoints/1' header"));
    let other = HEADER.replace("mocapd.keypoints/1", "mocapd.motion/1");
    assert!(read_err(&[&other]).contains("format is 'mocapd.motion/1'"));
    let zero_fps = HEADER.replace("30.0", "0.0");
    assert!(read_err(&[&zero_fps]).contains("fps must be a positive number"));

    assert!(read_err(&[HEADER, "{\"frame\":0,"]).contains(":2: not a frame record"));
    let wrong_count =
        format!(r#"{{"frame":0,"t":0.0,"people":[{{"id":1,"score":0.5,"bbox":[0,0,1,1],"keypoints":[{}]}}]}}"#, kps(16, "0.5"));
    assert!(read_err(&[HEADER, &wrong_count]).contains("has 16 keypoints, COCO-17 needs 17"));
    // JSON has no NaN literal: a writer that printed one produced an invalid line.
    let nan = format!(r#"{{"frame":0,"t":0.0,"people":[{{"id":1,"score":0.5,"bbox":[0,0,1,1],"keypoints":[{}]}}]}}"#, kps(17, "NaN"));
    assert!(read_err(&[HEADER, &nan]).contains(":2: not a frame record"));
    let conf = format!(r#"{{"frame":0,"t":0.0,"people":[{{"id":1,"score":0.5,"bbox":[0,0,1,1],"keypoints":[{}]}}]}}"#, kps(17, "1.5"));
    assert!(read_err(&[HEADER, &conf]).contains("confidence 1.5, outside [0, 1]"));
}

#[test]
fn times_must_be_in_range_and_increase() {
    let frame = |n: u32, t: &str| format!(r#"{{"frame":{n},"t":{t},"people":[]}}"#);
    // A finite but huge t (it once panicked the replay thread).
    let e = read_err(&[HEADER, &frame(0, "0.0"), &frame(1, "1e20")]);
    assert!(e.contains(":3: t = 100000000000000000000 s is outside 0..=1e7 s"), "{e}");
    assert!(read_err(&[HEADER, &frame(0, "-2.5")]).contains(":2: t = -2.5 s is outside"));
    // Backwards and duplicated times name the line and say what to do.
    let e = read_err(&[HEADER, &frame(0, "0.0"), &frame(1, "1.0"), &frame(2, "0.5")]);
    assert!(e.contains(":4: t = 0.5 s does not come after the previous frame's 1 s") && e.contains("time order"), "{e}");
    let e = read_err(&[HEADER, &frame(0, "0.0"), &frame(1, "0.0")]);
    assert!(e.contains(":3: t = 0 s does not come after"), "{e}");
    // In order: accepted.
    let (_d, path) = write_file(&[HEADER, &frame(0, "0.0"), &frame(1, "0.033"), &frame(2, "0.067")]);
    assert_eq!(KeypointReader::open(&path).and_then(|r| r.read_all()).expect("in order").1.len(), 3);
}

#[test]
fn writer_never_emits_nan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.jsonl");
    let mut p = person(1, 1.0);
    p.keypoints[3] = Keypoint { x: f32::NAN, y: 1.0, c: 0.9 };
    p.score = f32::INFINITY;
    let frame = PoseFrame { frame: 0, t: 0.0, width: 10, height: 10, performer: Some(1), people: vec![p] };
    let mut w = KeypointWriter::create(&path, &Header::new(30.0, 10, 10, "x")).unwrap();
    w.write(&frame).unwrap();
    w.finish().unwrap();
    let (_, back) = KeypointReader::open(&path).unwrap().read_all().unwrap();
    assert_eq!(back[0].people[0].keypoints[3].c, 0.0, "a NaN joint is written as unseen");
    assert_eq!(back[0].people[0].score, 0.0);
}

/// `mocapd run` and `mocapd bench` on keypoint files whose times are out of range or go
/// backwards: one message naming the line, a non-zero exit, no panic (a huge `t` once panicked
/// the replay thread and the run still exited 0).
#[test]
fn run_and_bench_refuse_bad_times() {
    let frame = |n: u32, t: &str| format!(r#"{{"frame":{n},"t":{t},"people":[]}}"#);
    for (lines, needle) in [
        (vec![HEADER.to_string(), frame(0, "0.0"), frame(1, "1e20")], ":3: t = 100000000000000000000 s is outside"),
        (vec![HEADER.to_string(), frame(0, "0.0"), frame(1, "1.0"), frame(2, "0.5")], ":4: t = 0.5 s does not come after"),
    ] {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (_d, path) = write_file(&refs);
        let p = path.to_str().unwrap();
        crate::support::fails_with(&["run", p], needle);
        crate::support::fails_with(&["bench", p, "--json"], needle);
    }
}
