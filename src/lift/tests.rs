//! Lifting tests: motion-file round trip and validation, metrics on closed forms, lifting a
//! synthetic keypoint file with a tiny random checkpoint (coverage, unit quaternions, FK
//! consistency, stitched overlaps, inferred gaps, BVH re-read), clear errors, eval on a tiny
//! built data set and on a ground-truth file.
use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;

use super::decode::{decode, Pose};
use super::format::*;
use super::lift::{lift, LiftError, LiftOptions};
use super::metrics::*;
use super::*;
use crate::data::bvh::Bvh;
use crate::data::motion::Motion;
use crate::data::procedural::{generate, ProceduralOptions};
use crate::model::{save_checkpoint, Denoiser, ModelConfig, MotionStats};
use crate::pose::record::{Header, KeypointWriter};
use crate::pose::{Keypoint, Person, PoseFrame};
use crate::skeleton::coco::coco_from_pose;
use crate::skeleton::rotation::{axis_angle_to_quat, quat_rotate, Vec3};
use crate::skeleton::smpl_fk;

const S: usize = 40;

fn tiny_checkpoint(dir: &Path) -> PathBuf {
    let dev = Device::Cpu;
    let cfg = ModelConfig::tiny(S);
    let vm = VarMap::new();
    Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev)).unwrap();
    let path = dir.join("tiny.safetensors");
    let stats = MotionStats { mean: vec![0.0; 151], std: vec![1.0; 151] };
    save_checkpoint(&path, &vm, &cfg, Some(&stats)).unwrap();
    path
}

fn procedural(frames: usize, seed: u64) -> Motion {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let o = ProceduralOptions { seconds: frames as f32 / 30.0, ..Default::default() };
    let mut m = generate(&o, &mut rng);
    m.root.truncate(frames);
    m.rotations.truncate(frames);
    m
}

/// A keypoint file of `m` seen by an orthographic camera; `gap` frames have nobody, and a
/// second, rarer person (id 9) shows up in some frames.
fn keypoint_file(path: &Path, m: &Motion, gap: std::ops::Range<usize>) {
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

fn frame_of(m: &Motion, f: usize) -> MotionFrame {
    MotionFrame {
        frame: f as u64,
        t: f as f64 / 30.0,
        root: m.root[f],
        rotations: m.rotations[f],
        joints: smpl_fk(&m.rotations[f], m.root[f]),
        contacts: [f % 2 == 0, false, true, false],
        contact_scores: (f % 3 == 0).then_some([0.9, 0.1, 0.6, 0.0]),
        inferred: f == 2,
    }
}

#[test]
fn motion_file_roundtrip_and_validation() {
    let dir = tempfile::tempdir().unwrap();
    let m = procedural(5, 1);
    let frames: Vec<MotionFrame> = (0..5).map(|f| frame_of(&m, f)).collect();
    let path = dir.path().join("m.jsonl");
    write_motion(&path, &MotionHeader::smpl24(30.0), &frames).unwrap();
    let (h, back) = read_motion(&path).unwrap();
    assert_eq!(h, MotionHeader::smpl24(30.0));
    assert_eq!(back, frames);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().nth(3).unwrap().contains("\"inferred\":true"));
    assert!(!text.lines().nth(1).unwrap().contains("inferred"));
    // NaN refused on writing
    let mut bad = frames[0].clone();
    bad.joints[5][1] = f32::NAN;
    let e = write_motion(&path, &MotionHeader::smpl24(30.0), &[bad]).unwrap_err();
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
    let r = lift(&kp, &out, &opts).unwrap();
    eprintln!("lift: {r:?} in {:?}", t0.elapsed());
    assert_eq!((r.frames, r.windows, r.inferred_frames, r.performer), (100, 4, 10, Some(3)));
    let (h, frames) = read_motion(&out).unwrap();
    assert_eq!(h.fps, 30.0);
    assert_eq!(frames.len(), 100);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.frame, i as u64);
        assert_eq!(f.inferred, (50..60).contains(&i));
        assert!(f.problem().is_none());
        let fk = smpl_fk(&f.rotations, f.root);
        for j in 0..24 {
            for k in 0..3 {
                assert!((fk[j][k] - f.joints[j][k]).abs() < 1e-4);
            }
        }
        let cs = f.contact_scores.unwrap();
        assert_eq!(f.contacts, cs.map(|c| c > 0.5));
        if i > 0 {
            for j in 0..24 {
                let d: f32 = (0..4).map(|k| f.rotations[j][k] * frames[i - 1].rotations[j][k]).sum();
                assert!(d >= 0.0, "sign flip at frame {i} joint {j}");
            }
        }
    }
    // stitched: each window's in-filled overlap equals the previous window's frames
    let track = super::lift::read_track(&kp).unwrap();
    let lifter = Lifter::load(&ck).unwrap().with_engine(opts.engine, None).unwrap();
    let l = lifter.lift_track(&track, &opts).unwrap();
    assert_eq!(l.frames, frames);
    for w in l.windows.windows(2) {
        let ov = w[0].start + w[0].features.len() - w[1].start;
        assert_eq!(ov, S - 25);
        for j in 0..ov {
            let (a, b) = (&w[1].features[j], &w[0].features[w[1].start - w[0].start + j]);
            let (pa, pb): (Pose, Pose) = (decode(a), decode(b));
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
    lift(&kp, &bvh, &opts).unwrap();
    let b = Bvh::read(&bvh).unwrap();
    assert_eq!(b.frames.len(), 100);
    assert_eq!(b.joints.len(), 24);
    for f in [0, 37, 99] {
        let (t, q) = b.local_pose(f).unwrap();
        let posed = crate::skeleton::forward_kinematics(&b.parents(), &t, &q, t[0]);
        let root = b.joint_index("pelvis").unwrap();
        assert_eq!(root, 0);
        for (bi, jt) in b.joints.iter().enumerate() {
            let j = crate::skeleton::smpl::joint_index(&jt.name).unwrap();
            for c in 0..3 {
                assert!((posed.positions[bi][c] - frames[f].joints[j][c]).abs() < 2e-3, "frame {f} joint {}", jt.name);
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
    let e = lift(&kp, &out, &LiftOptions { checkpoint: missing, ..Default::default() }).unwrap_err();
    assert!(matches!(e, LiftError::NoModel { .. }));
    assert!(e.to_string().contains("no model at") && e.to_string().contains("mocapd train"), "{e}");
    let ck = tiny_checkpoint(dir.path());
    let bytes = std::fs::read(&ck).unwrap();
    let trunc = dir.path().join("trunc.safetensors");
    std::fs::write(&trunc, &bytes[..bytes.len() / 2]).unwrap();
    let e = lift(&kp, &out, &LiftOptions { checkpoint: trunc.clone(), ..Default::default() }).unwrap_err();
    assert!(matches!(e, LiftError::Checkpoint(_)), "{e}");
    assert!(e.to_string().contains("trunc.safetensors"), "{e}");
    let mut text: Vec<String> = std::fs::read_to_string(&kp).unwrap().lines().map(String::from).collect();
    text[4] = "{\"frame\":3,\"t\":0.1,\"people\":[{\"id\":1}]}".into();
    std::fs::write(&kp, text.join("\n")).unwrap();
    let e = lift(&kp, &out, &LiftOptions { checkpoint: ck.clone(), ..Default::default() }).unwrap_err();
    assert!(matches!(e, LiftError::Keypoints(_)) && e.to_string().contains(":5:"), "{e}");
    let e = lift(&kp, &dir.path().join("o.txt"), &LiftOptions { checkpoint: ck, ..Default::default() }).unwrap_err();
    assert!(matches!(e, LiftError::OutputKind { .. }), "{e}");
}

/// A tiny built data set of procedural motion (clips of `clip_len` frames, one camera) under
/// `dir/train`; shared with the streaming evaluation's tests.
pub(crate) fn tiny_dataset(dir: &Path, clip_len: usize) -> PathBuf {
    let raw = dir.join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    let data = dir.join("train");
    let o = crate::data::build::BuildOptions {
        raw_dir: raw,
        out_dir: data.clone(),
        clip_len,
        stride: clip_len,
        cameras: 1,
        procedural_minutes: 0.2,
        procedural: ProceduralOptions { seconds: 4.0, ..Default::default() },
        procedural_stride: clip_len,
        mixed_takes: 0,
        shard_size: 16,
        progress: false,
        ..Default::default()
    };
    crate::data::build::build(&o).unwrap();
    data
}

#[test]
fn eval_tiny_dataset_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let ck = tiny_checkpoint(dir.path());
    let data = tiny_dataset(dir.path(), S);
    let r = eval(&EvalOptions { checkpoint: ck.clone(), data, steps: 2, max_windows: 3, batch: 2, ..Default::default() }).unwrap();
    eprintln!("{r}");
    assert_eq!((r.mode.as_str(), r.windows, r.frames), ("val", 3, 3 * S));
    let m = r.metrics;
    for v in [m.mpjpe_mm, m.pa_mpjpe_mm, m.accel_error_mm, m.jitter_mm] {
        assert!(v.is_finite() && v >= 0.0);
    }
    assert!(m.mpjpe_mm > 0.0);
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("pa_mpjpe_mm"));
    // mode (b): a ground-truth file and its keypoints
    let mo = procedural(60, 5);
    let kp = dir.path().join("kp.jsonl");
    keypoint_file(&kp, &mo, 10..15);
    let gt = dir.path().join("gt.jsonl");
    let frames: Vec<MotionFrame> = (0..60).map(|f| MotionFrame { inferred: false, ..frame_of(&mo, f) }).collect();
    write_motion(&gt, &MotionHeader::smpl24(30.0), &frames).unwrap();
    let r = eval(&EvalOptions { checkpoint: ck, gt: Some((gt, kp)), steps: 2, ..Default::default() }).unwrap();
    assert_eq!((r.mode.as_str(), r.frames), ("file", 55));
    assert!(r.metrics.mpjpe_mm.is_finite() && r.metrics.pa_mpjpe_mm <= r.metrics.mpjpe_mm + 1e-3);
}
