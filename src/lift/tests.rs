//! Lifting tests: motion-file round trip and validation, metrics on closed forms, lifting a
//! synthetic keypoint file with a tiny random checkpoint (coverage, unit quaternions, FK
//! consistency, stitched overlaps, inferred gaps, BVH re-read), clear errors; the streaming path
//! against the offline lift and its evaluation (the other eval tests: `eval_tests.rs`).
use std::path::{Path, PathBuf};

use rand::SeedableRng;

use super::metrics::*;
use super::offline::read_track;
use super::*;
use crate::bvh::Bvh;
use crate::data::procedural::{generate, ProceduralOptions};
use crate::infer::{InferError, Lifter};
use crate::model::{save_random_checkpoint_as, ModelConfig, MotionStats};
use crate::motion::codec::decode_frame;
use crate::motion::Contract;
use crate::motion::{read_motion, write_motion, Motion, MotionFileError, MotionFrame, MotionHeader};
use crate::pose::record::{Header, KeypointWriter};
use crate::pose::{Keypoint, Person, PoseFrame};
use crate::skeleton::coco::coco_from_pose;
use crate::skeleton::rotation::{axis_angle_to_quat, quat_rotate, Vec3};
use crate::skeleton::smpl_fk;

pub(crate) const S: usize = 40;

pub(crate) fn tiny_checkpoint(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.safetensors");
    let stats = MotionStats { mean: vec![0.0; 151], std: vec![1.0; 151] };
    save_random_checkpoint_as(&path, &ModelConfig::tiny(S), Some(&stats), Some(Contract::CURRENT.name())).unwrap();
    path
}

pub(crate) fn procedural(frames: usize, seed: u64) -> Motion {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let o = ProceduralOptions { seconds: frames as f32 / 30.0, ..Default::default() };
    let mut m = generate(&o, &mut rng);
    m.root.truncate(frames);
    m.rotations.truncate(frames);
    m
}

/// A keypoint file of `m` seen by an orthographic camera; `gap` frames have nobody, and a
/// second, rarer person (id 9) shows up in some frames.
pub(crate) fn keypoint_file(path: &Path, m: &Motion, gap: std::ops::Range<usize>) {
    let mut w = KeypointWriter::create(path, &Header::new(30.0, 1280, 720, "synthetic")).unwrap();
    for f in 0..m.len() {
        let coco = coco_from_pose(&m.rotations[f], m.root[f]);
        let kp: [Keypoint; 17] = std::array::from_fn(|j| Keypoint { x: 640.0 + 300.0 * coco[j][0], y: 400.0 - 300.0 * coco[j][1], c: 0.9 });
        let person = |id| Person { id, score: 0.9, bbox: [0.0, 0.0, 10.0, 10.0], keypoints: kp };
        let mut people = vec![];
        if !gap.contains(&f) {
            people.push(person(3));
            if f % 7 == 0 {
                people.push(person(9));
            }
        }
        w.write(&PoseFrame { frame: f as u64, t: f as f64 / 30.0, width: 1280, height: 720, performer: None, people }).unwrap();
    }
    w.finish().unwrap();
}

pub(crate) fn frame_of(m: &Motion, f: usize) -> MotionFrame {
    MotionFrame { contacts: [0.9, 0.1, 0.6, 0.0], inferred: f == 2, ..m.frame(f).unwrap() }
}

#[test]
fn motion_file_roundtrip_and_validation() {
    let dir = tempfile::tempdir().unwrap();
    let m = procedural(5, 1);
    let frames: Vec<MotionFrame> = (0..5).map(|f| frame_of(&m, f)).collect();
    let path = dir.path().join("m.jsonl");
    write_motion(&path, &MotionHeader::smpl24(30.0), &frames, 0.5).unwrap();
    let (h, back) = read_motion(&path).unwrap();
    assert_eq!(h, MotionHeader::smpl24(30.0));
    assert_eq!(back, frames);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().nth(3).unwrap().contains("\"inferred\":true"));
    assert!(!text.lines().nth(1).unwrap().contains("inferred"));
    // NaN refused on writing
    let mut bad = frames[0];
    bad.root[1] = f32::NAN;
    let e = write_motion(&path, &MotionHeader::smpl24(30.0), &[bad], 0.5).unwrap_err();
    assert!(matches!(e, MotionFileError::NotFinite { .. }), "{e}");
    // reader: line numbers
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[3] = lines[3].replacen("\"rotations\":[[", "\"rotations\":[[7,", 1);
    std::fs::write(&path, lines.join("\n")).unwrap();
    let e = read_motion(&path).unwrap_err().to_string();
    assert!(e.contains(":4:"), "{e}");
    std::fs::write(&path, "{\"format\":\"other\"}\n").unwrap();
    assert!(read_motion(&path).unwrap_err().to_string().contains(":1:"));
}

fn line_of(n: usize, v: Vec3) -> Vec<Joints> {
    (0..n)
        .map(|t| {
            std::array::from_fn(|j| {
                [j as f32 * 0.1 + v[0] * t as f32, (j % 5) as f32 * 0.2 + v[1] * t as f32, v[2] * t as f32 - j as f32 * 0.03]
            })
        })
        .collect()
}

#[test]
fn metrics_closed_forms() {
    let m = procedural(20, 2);
    let gt: Vec<Joints> = (0..m.len()).map(|f| smpl_fk(&m.rotations[f], m.root[f])).collect();
    assert_eq!(mpjpe(&gt, &gt), 0.0);
    assert!(pa_mpjpe(&gt, &gt) < 1e-3);
    // rotated, scaled, translated copy: PA ≈ 0, MPJPE > 0
    let q = axis_angle_to_quat([0.3, 1.1, -0.4]);
    let moved: Vec<Joints> = gt
        .iter()
        .map(|f| {
            f.map(|p| {
                let r = quat_rotate(q, p);
                [1.3 * r[0] + 0.5, 1.3 * r[1] - 2.0, 1.3 * r[2] + 7.0]
            })
        })
        .collect();
    assert!(mpjpe(&moved, &gt) > 50.0);
    let pa = pa_mpjpe(&moved, &gt);
    assert!(pa < 0.05, "PA-MPJPE {pa}");
    // constant velocity vs its copy: accel error 0, jitter 0
    let cv = line_of(10, [0.01, 0.02, -0.03]);
    assert!(accel_error(&cv, &cv) < 1e-6);
    assert!(jitter(&cv) < 1e-3);
    // a trajectory with a kink has jitter
    let mut kink = cv.clone();
    kink[5][3][0] += 0.01;
    assert!(jitter(&kink) > 0.1 && accel_error(&kink, &cv) > 0.1);
    // foot skate: a sliding grounded foot = 1, a planted one = 0
    let mut slide: Vec<Joints> = vec![[[0.0, 0.5, 0.0]; 24]; 10];
    let mut plant = slide.clone();
    for (t, f) in slide.iter_mut().enumerate() {
        for j in SKATE_JOINTS {
            f[j] = [0.04 * t as f32, 0.01, 0.0];
        }
    }
    for f in plant.iter_mut() {
        for j in SKATE_JOINTS {
            f[j] = [0.2, 0.0, 0.1];
        }
    }
    assert_eq!(foot_skate(&slide), Some(1.0));
    assert_eq!(foot_skate(&plant), Some(0.0));
}

#[test]
fn lift_tiny_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let ck = tiny_checkpoint(dir.path());
    let m = procedural(100, 3);
    let kp = dir.path().join("kp.jsonl");
    keypoint_file(&kp, &m, 50..60);
    let out = dir.path().join("out.jsonl");
    let opts = LiftOptions { checkpoint: ck.clone(), steps: 3, hop: 25, ..Default::default() };
    let t0 = std::time::Instant::now();
    let r = lift_file(&kp, &out, &opts).unwrap();
    eprintln!("lift: {r:?} in {:?}", t0.elapsed());
    assert_eq!((r.frames, r.windows, r.inferred_frames, r.performer), (100, 4, 10, Some(3)));
    let (h, frames) = read_motion(&out).unwrap();
    assert_eq!(h.fps, 30.0);
    assert_eq!(frames.len(), 100);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.frame, i as u64);
        assert_eq!(f.inferred, (50..60).contains(&i));
        assert!(f.problem().is_none());
        if i > 0 {
            for j in 0..24 {
                let d: f32 = (0..4).map(|k| f.rotations[j][k] * frames[i - 1].rotations[j][k]).sum();
                assert!(d >= 0.0, "sign flip at frame {i} joint {j}");
            }
        }
    }
    // stitched: each window's in-filled overlap equals the previous window's frames
    let track = read_track(&kp).unwrap();
    let lifter = Lifter::load(&ck).unwrap().with_engine(opts.engine, None).unwrap();
    let l = lift_track(&lifter, &track, &opts).unwrap();
    assert_eq!(l.frames, frames);
    for w in l.windows.windows(2) {
        let ov = w[0].start + w[0].features.len() - w[1].start;
        assert_eq!(ov, S - 25);
        for j in 0..ov {
            let (a, b) = (&w[1].features[j], &w[0].features[w[1].start - w[0].start + j]);
            let (pa, pb) = (decode_frame(a), decode_frame(b));
            let (ja, jb) = (pa.joints(), pb.joints());
            for k in 0..24 {
                for c in 0..3 {
                    assert!((ja[k][c] - jb[k][c]).abs() < 1e-3, "window {} frame {j}", w[1].start);
                }
            }
        }
    }
    // BVH output re-reads with the right frame count and the same joints
    let bvh = dir.path().join("out.bvh");
    lift_file(&kp, &bvh, &opts).unwrap();
    let b = Bvh::read(&bvh).unwrap();
    assert_eq!(b.frames.len(), 100);
    assert_eq!(b.joints.len(), 24);
    for f in [0, 37, 99] {
        let (t, q) = b.local_pose(f).unwrap();
        let posed = crate::skeleton::forward_kinematics(&b.parents(), &t, &q, t[0]);
        // The recorder's hierarchy: the pelvis is `Hips`, the other joints keep their SMPL names.
        assert_eq!(b.joint_index("Hips"), Some(0));
        let joints = frames[f].joints();
        for (bi, jt) in b.joints.iter().enumerate() {
            let j = if jt.name == "Hips" { 0 } else { crate::skeleton::smpl::joint_index(&jt.name).unwrap() };
            for (c, want) in joints[j].iter().enumerate() {
                assert!((posed.positions[bi][c] - want).abs() < 2e-3, "frame {f} joint {}", jt.name);
            }
        }
    }
}

#[test]
fn lift_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let m = procedural(10, 4);
    let kp = dir.path().join("kp.jsonl");
    keypoint_file(&kp, &m, 0..0);
    let out = dir.path().join("o.jsonl");
    let missing = dir.path().join("models/none.safetensors");
    let e = lift_file(&kp, &out, &LiftOptions { checkpoint: missing, ..Default::default() }).unwrap_err();
    assert!(matches!(e, LiftError::Infer(InferError::NoModel { .. })));
    assert!(e.to_string().contains("no model at") && e.to_string().contains("mocapd train"), "{e}");
    let ck = tiny_checkpoint(dir.path());
    let bytes = std::fs::read(&ck).unwrap();
    let trunc = dir.path().join("trunc.safetensors");
    std::fs::write(&trunc, &bytes[..bytes.len() / 2]).unwrap();
    let e = lift_file(&kp, &out, &LiftOptions { checkpoint: trunc.clone(), ..Default::default() }).unwrap_err();
    assert!(matches!(e, LiftError::Infer(InferError::Checkpoint(_))), "{e}");
    assert!(e.to_string().contains("trunc.safetensors"), "{e}");
    let mut text: Vec<String> = std::fs::read_to_string(&kp).unwrap().lines().map(String::from).collect();
    text[4] = "{\"frame\":3,\"t\":0.1,\"people\":[{\"id\":1}]}".into();
    std::fs::write(&kp, text.join("\n")).unwrap();
    // The tiny model's windows are 40 frames: the default hop (100) is refused, naming the flag,
    // once the checkpoint is loaded and before the input is read.
    let e = lift_file(&kp, &out, &LiftOptions { checkpoint: ck.clone(), ..Default::default() }).unwrap_err();
    assert!(matches!(e, LiftError::BadOptions(_)) && e.to_string().contains("--hop must be in 1..=40"), "{e}");
    let e = lift_file(&kp, &out, &LiftOptions { checkpoint: ck.clone(), hop: 20, ..Default::default() }).unwrap_err();
    assert!(matches!(e, LiftError::Keypoints(_)) && e.to_string().contains(":5:"), "{e}");
    let e = lift_file(&kp, &dir.path().join("o.txt"), &LiftOptions { checkpoint: ck, ..Default::default() }).unwrap_err();
    assert!(matches!(e, LiftError::OutputKind { .. }), "{e}");
}

/// A tiny built data set of procedural motion (clips of `clip_len` frames, one camera) under
/// `dir/train`; shared with the streaming evaluation's tests.
pub(crate) fn tiny_dataset(dir: &Path, clip_len: usize) -> PathBuf {
    super::eval_tests::tiny_dataset_with(dir, clip_len, 1)
}

// The streaming path (the daemon's `Stream`, without threads) against offline lifting.
use crate::pipeline::denoise::stream_sequence;
use crate::pipeline::tests::{checkpoint as stream_checkpoint, lifter as stream_lifter, pose as stream_pose};
use crate::pipeline::PipelineSettings;
use crate::pose::performer::Track2d;
use crate::window::Pose2d;

#[test]
fn streaming_with_a_one_window_hop_equals_offline_lift() {
    let dir = tempfile::tempdir().unwrap();
    let lifter = stream_lifter(dir.path());
    let poses: Vec<Pose2d> = (0..S as u64).map(|i| stream_pose(i, true)).collect();
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
    let offline = lift_track(&lifter, &track, &LiftOptions { steps: 2, seed: 7, hop: S, ..LiftOptions::default() }).unwrap().frames;
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
    let opts = EvalOptions {
        checkpoint: stream_checkpoint(dir.path()),
        data,
        split: crate::data::build::Split::Val,
        steps: vec![1],
        max_windows: 3,
        batch: 2,
        ..EvalOptions::default()
    };
    let s = PipelineSettings { steps: 2, ..PipelineSettings::default() };
    let r = super::stream_eval::eval_streaming(&opts, &s, 4).unwrap();
    eprintln!("{r}");
    assert_eq!((r.mode.as_str(), r.windows, r.frames, r.views.as_str()), ("val", 3, 3 * S, "one"));
    assert_eq!(r.streaming, Some(super::eval_report::StreamingInfo { hop: 4, steps: 2 }));
    assert_eq!(r.methods.last().map(|m| (m.name.as_str(), m.steps)), Some(("streaming", Some(2))));
    assert!(r.notes.iter().any(|n| n.contains("one camera view per window")), "{:?}", r.notes);
    let m = *r.all().unwrap().score("streaming").unwrap();
    for v in [m.mpjpe_mm, m.pa_mpjpe_mm, m.accel_error_mm, m.jitter_mm] {
        assert!(v.is_finite() && v > 0.0, "{m:?}");
    }
    assert!(m.pa_mpjpe_mm <= m.mpjpe_mm + 1e-3);
    let e = super::stream_eval::eval_streaming(&opts, &s, S + 1).unwrap_err();
    assert!(matches!(e, crate::lift::EvalError::Lift(LiftError::BadOptions(_))), "{e}");
}
