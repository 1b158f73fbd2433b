//! Unit tests of the motion contract on synthetic motion (the real-clip round trips are in the
//! integration tests, which fetch CMU data).
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::bvh::{self, Units};
use super::codec::{self, FEATURE_DIM};
use super::*;
use crate::skeleton::rotation::{axis_angle_to_quat, Quat};

/// A smooth random clip: every joint turns about a random axis at a random rate.
fn random_clip(frames: usize, seed: u64) -> Motion {
    let mut rng = StdRng::seed_from_u64(seed);
    let axes: Vec<[f32; 3]> =
        (0..24).map(|_| [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)]).collect();
    let rates: Vec<f32> = (0..24).map(|_| rng.random_range(-3.0..3.0)).collect();
    let mut m = Motion { fps: 30.0, root: vec![], rotations: vec![] };
    for i in 0..frames {
        let t = i as f32 / 30.0;
        m.root.push([0.3 * t, 0.9 + 0.05 * (3.0 * t).sin(), -0.2 * t]);
        m.rotations.push(std::array::from_fn(|j| {
            let a = rates[j] * t + 0.3;
            axis_angle_to_quat(crate::skeleton::rotation::scale(crate::skeleton::rotation::normalize(axes[j]), a))
        }));
    }
    m.make_continuous();
    m
}

fn same_rotation(a: Quat, b: Quat) -> f32 {
    let d: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    1.0 - d.abs()
}

#[test]
fn decode_encode_round_trips_a_clip() {
    let m = random_clip(90, 1);
    let feats = encode(&m);
    assert_eq!(feats.len(), 90);
    assert_eq!(feats[0].len(), FEATURE_DIM);
    let frames = decode(&feats, 30.0);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.frame, i as u64);
        for k in 0..3 {
            assert!((f.root[k] - m.root[i][k]).abs() < 1e-5);
        }
        for j in 0..24 {
            for c in 0..4 {
                // decode keeps signs continuous and so does the clip: the same quaternion.
                assert!((f.rotations[j][c] - m.rotations[i][j][c]).abs() < 1e-5, "frame {i} joint {j}");
            }
        }
    }
    let again: Vec<[f32; FEATURE_DIM]> = frames.iter().map(codec::encode_frame).collect();
    for (a, b) in again.iter().zip(&feats) {
        assert!(a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() < 1e-5));
    }
}

#[test]
fn placement_round_trips_and_faces_plus_z() {
    let m = random_clip(10, 2);
    for i in 0..10 {
        let f = m.frame(i).expect("frame");
        let p = Placement::canonical_for(&f);
        let c = p.to_canonical(&f);
        let d = placement::facing(&c.joints());
        assert!((d[2] - 1.0).abs() < 1e-4 && d[0].abs() < 1e-4, "faces {d:?}");
        assert!(c.root[0].abs() < 1e-5 && c.root[2].abs() < 1e-5);
        let back = p.to_world(&c);
        assert!(back.root.iter().zip(f.root).all(|(a, b)| (a - b).abs() < 1e-5));
        assert!(same_rotation(back.rotations[0], f.rotations[0]) < 1e-6);
    }
}

#[test]
fn bvh_skeleton_writes_and_reads_back() {
    let m = random_clip(20, 3);
    let frames: Vec<MotionFrame> = (0..m.len()).filter_map(|i| m.frame(i)).collect();
    for units in [Units::Metres, Units::Centimetres] {
        let text = crate::bvh::write::to_string(&bvh::to_bvh(&frames, 30.0, units));
        assert!(text.contains("ROOT Hips"), "{}", &text[..40]);
        let back = bvh::to_clip(&crate::bvh::Bvh::parse(&text).expect("parses")).expect("is smpl24");
        assert_eq!(back.len(), m.len());
        for i in 0..m.len() {
            assert!(back.root[i].iter().zip(m.root[i]).all(|(a, b)| (a - b).abs() < 1e-4), "{units:?} root {i}");
            for j in 0..24 {
                assert!(same_rotation(back.rotations[i][j], m.rotations[i][j]) < 1e-5, "{units:?} frame {i} joint {j}");
            }
        }
    }
}

#[test]
fn sanitize_replaces_non_finite_values() {
    let mut f = MotionFrame::rest(3, 0.1);
    f.root[1] = f32::NAN;
    f.rotations[4] = [f32::INFINITY, 0.0, 0.0, 1.0];
    f.rotations[5] = [0.0, 0.0, 0.0, 2.0];
    f.contacts = [f32::NAN, 2.0, -1.0, 0.5];
    assert!(f.problem().is_some());
    let (clean, fixed) = f.sanitized();
    assert_eq!(fixed, 3);
    assert!(clean.is_clean(1e-6) && clean.problem().is_none());
    assert_eq!(clean.contacts, [0.0, 1.0, 0.0, 0.5]);
    assert_eq!(clean.rotations[5], [0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn file_round_trips_frames() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.jsonl");
    let m = random_clip(5, 4);
    let mut frames: Vec<MotionFrame> = (0..5).filter_map(|i| m.frame(i)).collect();
    frames[2].contacts = [0.9, 0.1, 0.6, 0.4];
    frames[3].inferred = true;
    write_motion(&path, &MotionHeader::smpl24(30.0), &frames, 0.5).expect("writes");
    let text = std::fs::read_to_string(&path).expect("reads");
    assert!(text.lines().nth(3).expect("line").contains("\"contacts\":[true,false,true,false]"));
    let (h, back) = read_motion(&path).expect("reads back");
    assert_eq!(h.fps, 30.0);
    assert_eq!(back, frames);
}

#[test]
fn mirrored_swaps_sides_and_twice_is_the_identity() {
    let mut f = MotionFrame::rest(0, 0.0);
    f.root = [0.3, 0.9, 1.0];
    f.rotations[16] = axis_angle_to_quat([0.0, 0.0, -1.2]); // left shoulder: arm down
    f.contacts = [1.0, 0.5, 0.0, 0.25];
    let m = f.mirrored();
    assert_eq!(m.root, [-0.3, 0.9, 1.0]);
    assert_eq!(m.contacts, [0.0, 0.25, 1.0, 0.5]);
    // The mirror's right wrist is where the original's left wrist is, reflected in X (within
    // the asymmetry of the SMPL rest table).
    let (a, b) = (f.joints(), m.joints());
    for (l, r) in [(20, 21), (18, 19), (7, 8)] {
        let d = [b[r][0] + a[l][0], b[r][1] - a[l][1], b[r][2] - a[l][2]];
        assert!(d.iter().all(|v| v.abs() < 0.03), "joint {l} -> {r}: {d:?}");
    }
    let back = m.mirrored();
    assert_eq!(back.root, f.root);
    for j in 0..24 {
        assert!(same_rotation(back.rotations[j], f.rotations[j]) < 1e-6);
    }
}

#[test]
fn a_body_facing_the_camera_gets_the_same_root_orientation_whatever_the_camera_heading() {
    // The same walk seen by cameras at several world headings, the body always turned towards
    // the camera: in the camera's gravity-view frame its root orientation is the same.
    let m = random_clip(5, 6);
    let mut reference: Option<Quat> = None;
    for heading in [0.0f32, 0.7, 2.0, -2.5, 3.1] {
        // The body faces its camera: turn the clip so frame 0 faces the camera's heading.
        let face = Placement::canonical_for(&m.frame(0).expect("frame"));
        let turn = Placement { yaw: axis_angle_to_quat([0.0, heading, 0.0]), origin: [0.0; 3] };
        let world: Vec<MotionFrame> = (0..m.len()).map(|i| turn.to_canonical(&face.to_canonical(&m.frame(i).expect("frame")))).collect();
        let view = placement::Placement::gravity_view(heading, &world[0]);
        let q = view.to_canonical(&world[0]).rotations[0];
        match reference {
            None => reference = Some(q),
            Some(r) => assert!(same_rotation(q, r) < 1e-5, "heading {heading}: {q:?} vs {r:?}"),
        }
        // ... and it faces +Z, towards the camera on +Z.
        let d = placement::facing(&view.to_canonical(&world[0]).joints());
        assert!(d[2] > 0.9999, "heading {heading}: faces {d:?}");
    }
    // At inference the stream's frame is the camera's: only the root moves to the origin.
    let f = m.frame(2).expect("frame");
    let p = Placement::for_window(Contract::GravityView, &f);
    assert_eq!(p.yaw, crate::skeleton::rotation::QUAT_IDENTITY);
    assert_eq!(p.to_canonical(&f).rotations, f.rotations);
}
