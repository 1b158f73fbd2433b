//! Motion data tests: BVH read/write, error messages, fetched registry data, retargeting.
//! Tests that need real data take it from `support::data` (fetched once, outside the repository).

use mocapd::bvh::write as bvh_write;
use mocapd::bvh::{Bvh, BvhError};

use crate::support::data::{fetched, fetched_file};
use crate::support::error_text;

const SMALL: &str = "HIERARCHY\r\nROOT Hips\r\n{\r\n\tOFFSET 0 0 0\r\n\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\r\n\tJOINT Left Leg\r\n\t{\r\n\t\tOFFSET 10 -5 0\r\n\t\tCHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation\r\n\t\tJOINT Foot\r\n\t\t{\r\n\t\t\tOFFSET 0 -40 0\r\n\t\t\tCHANNELS 3 Xrotation Zrotation Yrotation\r\n\t\t\tEnd Site\r\n\t\t\t{\r\n\t\t\t\tOFFSET 0 0 12.5\r\n\t\t\t}\r\n\t\t}\r\n\t}\r\n}\r\nMOTION\r\nFrames: 2\r\nFrame Time: .0333333\r\n1 90.5 -3 10 20 30 10 -5 0 0 0 0 45 0 0\r\n1.5 91 -2.25 11 21 31 10.5 -5 0 1 2 3 40 0.125 -7\r\n";

#[test]
fn bvh_small_parses_any_channel_order_crlf_tabs_spaces_in_names() {
    let bvh = Bvh::parse(SMALL).expect("parses");
    assert_eq!(bvh.joints.len(), 3);
    assert_eq!(bvh.joints[1].name, "Left Leg");
    assert_eq!(bvh.joints[2].parent, Some(1));
    assert_eq!(bvh.joints[2].end_site, Some([0.0, 0.0, 12.5]));
    assert_eq!(bvh.num_channels(), 15);
    assert_eq!(bvh.frames.len(), 2);
    assert!((bvh.fps() - 30.0).abs() < 1e-3);
    // Foot: 45 degrees about X only.
    let (t, q) = bvh.local_pose(0).expect("frame 0");
    assert_eq!(t[0], [1.0, 90.5, -3.0]);
    let s = (std::f32::consts::FRAC_PI_8).sin();
    assert!((q[2][0] - s).abs() < 1e-6 && q[2][1].abs() < 1e-6);
}

#[test]
fn bvh_write_read_is_identity() {
    let bvh = Bvh::parse(SMALL).expect("parses");
    let again = Bvh::parse(&bvh_write::to_string(&bvh)).expect("re-parses");
    assert_eq!(bvh, again);
}

#[test]
fn bvh_real_files_round_trip() {
    for name in ["01_01.bvh", "01_03.bvh", "Boxing_Toes.bvh", "test_mocapbank.bvh", "test3.bvh"] {
        let bvh = Bvh::read(fetched_file(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!bvh.frames.is_empty(), "{name}");
        let again = Bvh::parse(&bvh_write::to_string(&bvh)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(bvh, again, "{name}");
    }
}

fn parse_err(text: &str) -> String {
    error_text(Bvh::parse(text), "the BVH parses")
}

#[test]
fn bvh_errors_are_clear() {
    // Truncated inside the hierarchy.
    let cut = &SMALL[..SMALL.find("End Site").expect("has End Site")];
    let msg = parse_err(cut);
    assert!(msg.starts_with("truncated BVH: expected"), "{msg}");
    // Truncated frames.
    let msg = parse_err(SMALL.replace("Frames: 2", "Frames: 5").as_str());
    assert!(msg.contains("header says 5 frames, the file has 2"), "{msg}");
    // NaN.
    let msg = parse_err(SMALL.replace("90.5", "nan").as_str());
    assert!(msg.contains("NaN or infinite value `nan` at line 24"), "{msg}");
    // Wrong number of channel values.
    let msg = parse_err(SMALL.replace(" 0.125 -7", " 0.125").as_str());
    assert!(msg.contains("frame line 25 has 14 channel values, the hierarchy declares 15"), "{msg}");
    // Unknown keyword.
    let msg = parse_err(SMALL.replace("\tOFFSET 0 -40 0", "\tOFSET 0 -40 0").as_str());
    assert!(msg.contains("unknown keyword `OFSET` at line 12"), "{msg}");
    // Bad channel name, garbage number.
    let msg = parse_err(SMALL.replace("Xrotation Zrotation", "Wrotation Zrotation").as_str());
    assert!(msg.contains("unknown channel `Wrotation` at line 9"), "{msg}");
    let msg = parse_err(SMALL.replace("OFFSET 10 -5 0", "OFFSET 10 abc 0").as_str());
    assert!(msg.contains("not a number: `abc` at line 8"), "{msg}");
    assert!(matches!(Bvh::parse(""), Err(BvhError::Truncated { .. })));
}

use mocapd::data::retarget::{retarget_bvh, RetargetError, SourceClip};
use mocapd::data::rigs::{self, RigMap};
use mocapd::motion::Motion;
use mocapd::skeleton::forward_kinematics;
use mocapd::skeleton::rotation::{norm, quat_angle, sub};
use mocapd::skeleton::smpl::{self, NUM_JOINTS};

fn retargeted(name: &str, rig: &RigMap) -> Motion {
    let bvh = Bvh::read(fetched_file(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    retarget_bvh(&bvh, rig).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn bvh_reader_preserves_source_bone_lengths() {
    let bvh = Bvh::read(fetched_file("01_01.bvh")).expect("reads");
    let parents = bvh.parents();
    for f in (0..bvh.frames.len()).step_by(97) {
        let (t, r) = bvh.local_pose(f).expect("frame");
        let pos = forward_kinematics(&parents, &t, &r, t[0]).positions;
        for (j, joint) in bvh.joints.iter().enumerate().skip(1) {
            let p = joint.parent.expect("non-root");
            let len = norm(sub(pos[j], pos[p]));
            assert!((len - norm(joint.offset)).abs() < 1e-4, "frame {f} joint {}", joint.name);
        }
    }
}

/// Checks every retargeted clip must pass; returns (seconds, fraction of contact frames
/// (foot joint slower than 0.1 m/s) with that foot's ankle or toe within 10 cm of the floor).
/// `max_speed` bounds every joint's angular speed (rad/s): no flips between frames.
fn check_motion(name: &str, m: &Motion, max_speed: f32, exempt: &[usize]) -> (f32, f32) {
    assert_eq!(m.fps, 30.0);
    assert!(m.len() > 10, "{name}");
    let rest = smpl::rest_bone_lengths();
    let pos: Vec<_> = (0..m.len()).map(|f| m.positions(f).expect("frame")).collect();
    for p in &pos {
        for j in 1..NUM_JOINTS {
            let len = norm(sub(p[j], p[smpl::parent(j).expect("non-root")]));
            assert!((len - rest[j]).abs() < 1e-3, "{name}: bone {j} is {len}, rest {}", rest[j]);
        }
    }
    for f in 1..m.len() {
        for j in (0..NUM_JOINTS).filter(|j| !exempt.contains(j)) {
            let speed = quat_angle(m.rotations[f - 1][j], m.rotations[f][j]) * m.fps;
            assert!(speed < max_speed, "{name}: joint {j} turns at {speed} rad/s at frame {f}");
        }
    }
    let lowest = pos.iter().flat_map(|p| [p[10][1], p[11][1], p[7][1], p[8][1]]).fold(f32::MAX, f32::min);
    assert!(lowest.abs() < 1e-4, "{name}: floor at {lowest}");
    let (mut contacts, mut grounded) = (0, 0);
    for f in 1..m.len() {
        for foot in [10, 11] {
            let v = norm(sub(pos[f][foot], pos[f - 1][foot])) * m.fps;
            if v < 0.1 {
                contacts += 1;
                let h = pos[f][foot][1].min(pos[f][foot - 3][1]);
                grounded += (h < 0.10) as usize;
            }
        }
    }
    (m.duration(), grounded as f32 / contacts.max(1) as f32)
}

#[test]
fn cmu_01_01_retargets_onto_smpl() {
    let m = retargeted("01_01.bvh", &rigs::CMU);
    let (secs, grounded) = check_motion("01_01", &m, 30.0, &[]);
    assert!(secs > 20.0, "01_01 lasts {secs} s");
    assert!(grounded > 0.95, "only {grounded} of contact frames have a foot on the floor");
    // Upright at the start: head above pelvis, facing +Z-ish (toes in front of ankles).
    let p = m.positions(0).expect("frame 0");
    assert!(p[15][1] > p[0][1] + 0.4);
}

#[test]
fn all_fetched_rigs_retarget() {
    let cases: [(&str, &RigMap); 5] = [
        ("01_01.bvh", &rigs::CMU),
        ("01_03.bvh", &rigs::CMU),
        ("Boxing_Toes.bvh", &rigs::BOXING),
        ("test_mocapbank.bvh", &rigs::MOCAPBANK),
        ("test3.bvh", &rigs::FREEMOCAP),
    ];
    for (name, rig) in cases {
        let m = retargeted(name, rig);
        // In 01_03 the source toes jump 75 degrees in 4 ms, and RightFingerBase (-> SMPL hand,
        // a leaf) swings 140 degrees in 8 ms: source noise. Bound flips, not jitter, and leave
        // the hand leaves out.
        let (secs, grounded) = check_motion(name, &m, 60.0, &[22, 23]);
        println!("{name}: {:.1} s at 30 fps, {:.0}% of still-foot frames grounded", secs, grounded * 100.0);
    }
}

#[test]
fn retarget_errors_are_clear() {
    let bvh = Bvh::parse(SMALL).expect("parses");
    let err = retarget_bvh(&bvh, &rigs::CMU).expect_err("CMU names are not in SMALL");
    assert_eq!(err.to_string(), "retarget map `cmu` names joint `LeftUpLeg`, which the source skeleton does not have");
    let rig = RigMap {
        name: "small",
        scale: 0.01,
        up: rigs::UpAxis::Y,
        skip_frames: 0,
        spread: &[],
        joints: &[(0, "Hips"), (4, "Left Leg"), (7, "Foot")],
    };
    let mut clip = SourceClip::from_bvh(&bvh);
    assert!(mocapd::data::retarget::retarget(&clip, &rig).is_ok());
    clip.frames.clear();
    let err = mocapd::data::retarget::retarget(&clip, &rig).expect_err("empty");
    assert!(matches!(err, RetargetError::EmptyClip));
    assert_eq!(err.to_string(), "empty clip: the source has no frames");
    let empty = Motion { fps: 30.0, root: vec![], rotations: vec![] };
    assert_eq!(empty.resample(30.0).expect_err("empty").to_string(), "empty clip: no frames");
}

#[test]
fn cmu_bone_directions_follow_the_source() {
    let bvh = Bvh::read(fetched_file("01_01.bvh")).expect("reads");
    let m = retarget_bvh(&bvh, &rigs::CMU).expect("retargets");
    let clip = SourceClip::from_bvh(&bvh);
    let idx = |n: &str| clip.names.iter().position(|x| x == n).expect("joint");
    // (SMPL parent, SMPL child, source parent, source child)
    let bones = [
        (4, 7, "LeftLeg", "LeftFoot"),
        (5, 8, "RightLeg", "RightFoot"),
        (16, 18, "LeftArm", "LeftForeArm"),
        (19, 21, "RightForeArm", "RightHand"),
        (1, 4, "LeftUpLeg", "LeftLeg"),
    ];
    for k in (0..m.len()).step_by(40) {
        // 120 fps source, first (T-pose) frame skipped: output frame k is source frame 1 + 4k.
        let (t, r) = &clip.frames[1 + 4 * k];
        let src = forward_kinematics(&clip.parents, t, r, t[0]).positions;
        let p = m.positions(k).expect("frame");
        for (a, b, sa, sb) in bones {
            let d = mocapd::skeleton::rotation::normalize(sub(p[b], p[a]));
            let s = mocapd::skeleton::rotation::normalize(sub(src[idx(sb)], src[idx(sa)]));
            let cos = mocapd::skeleton::rotation::dot(d, s);
            assert!(cos > 0.999, "frame {k}: SMPL bone {a}->{b} vs {sa}->{sb}: cos {cos}");
        }
    }
}

#[test]
fn deepmimic_clips_retarget() {
    let mut total = 0.0;
    for f in fetched().iter().filter(|f| f.package == "pybullet") {
        let clip = mocapd::data::deepmimic::read(&f.path).unwrap_or_else(|e| panic!("{e}"));
        let m = mocapd::data::retarget::retarget(&clip, &rigs::DEEPMIMIC).expect("retargets");
        let name = f.path.display().to_string();
        let (secs, grounded) = check_motion(&name, &m, 60.0, &[]);
        total += secs;
        if name.ends_with("walk.txt") {
            assert!(grounded > 0.9, "{name}: {grounded}");
        }
        // The spine bends evenly: spine1..3 share one local rotation.
        assert!(quat_angle(m.rotations[0][3], m.rotations[0][9]) < 1e-4);
        println!("{name}: {secs:.1} s, {:.0}% grounded", grounded * 100.0);
    }
    println!("DeepMimic total {total:.1} s");
    assert!(total > 25.0);
    let err = mocapd::data::deepmimic::parse(r#"{"Frames": [[0.03, 1, 2]]}"#).expect_err("short");
    assert_eq!(err, "frame 0 has 3 values, expected 44");
}

#[test]
fn features_canonical_mirror_speed_windows() {
    use mocapd::data::augment::*;
    use mocapd::motion::codec::{encode as features, FEATURE_DIM};
    use mocapd::motion::placement::{canonicalize, facing};
    use mocapd::skeleton::rotation::{dot, sixd_to_quat};
    let m = canonicalize(&retargeted("01_01.bvh", &rigs::CMU)).expect("canonical");
    let p0 = m.positions(0).expect("frame 0");
    assert!(m.root[0][0].abs() < 1e-5 && m.root[0][2].abs() < 1e-5);
    assert!(dot(facing(&p0), [0.0, 0.0, 1.0]) > 0.9999);
    let feats = features(&m);
    assert_eq!(feats.len(), m.len());
    assert_eq!(FEATURE_DIM, 151);
    for (f, v) in feats.iter().enumerate().step_by(50) {
        for j in 0..NUM_JOINTS {
            let six: [f32; 6] = std::array::from_fn(|k| v[j * 6 + k]);
            assert!(quat_angle(sixd_to_quat(&six), m.rotations[f][j]) < 1e-3);
        }
        assert_eq!(&v[148..151], &m.root[f]);
    }
    let planted = feats.iter().filter(|v| v[144..148].iter().any(|c| *c > 0.5)).count();
    assert!(planted > m.len() / 2, "only {planted} of {} frames have a planted foot", m.len());
    // Mirroring twice is the identity; once, it reflects X and swaps sides (within the
    // asymmetry of the SMPL rest table).
    let mm = mirror(&m);
    assert_eq!(mirror(&mm), m);
    let (a, b) = (m.positions(100).expect("f"), mm.positions(100).expect("f"));
    for &(l, r) in &smpl::LEFT_RIGHT {
        let reflected = [-a[l][0], a[l][1], a[l][2]];
        assert!(norm(sub(b[r], reflected)) < 0.05, "joint {l}");
    }
    let fast = change_speed(&m, 2.0).expect("speed");
    assert_eq!(fast.len(), (m.len() - 1) / 2 + 1);
    let w = windows(&m, 150, 75);
    assert_eq!(w.len(), (m.len() - 150) / 75 + 1);
    assert!(w.iter().all(|c| c.len() == 150));
}

/// The motion contract's codec on real clips of every fetched rig: `decode(encode(m)) == m`
/// within 1e-5 (quaternions up to sign, which `decode` keeps continuous from frame to frame).
#[test]
fn codec_round_trips_real_clips() {
    use mocapd::motion::codec::{decode, encode};
    for (name, rig) in [("01_01.bvh", &rigs::CMU), ("Boxing_Toes.bvh", &rigs::BOXING), ("test_mocapbank.bvh", &rigs::MOCAPBANK)] {
        let m = retargeted(name, rig);
        let frames = decode(&encode(&m), f64::from(m.fps));
        assert_eq!(frames.len(), m.len(), "{name}");
        let mut worst = 0f32;
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f.root, m.root[i], "{name} frame {i}");
            for j in 0..NUM_JOINTS {
                let (a, b) = (f.rotations[j], m.rotations[i][j]);
                let same = (0..4).map(|k| (a[k] - b[k]).abs()).fold(0.0, f32::max);
                let flipped = (0..4).map(|k| (a[k] + b[k]).abs()).fold(0.0, f32::max);
                worst = worst.max(same.min(flipped));
            }
        }
        assert!(worst <= 1e-5, "{name}: decode(encode(m)) differs by {worst}");
    }
}
