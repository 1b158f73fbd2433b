//! Tests of the CMU corpus reader, the three CMU rig tables, the take checks and the split by
//! subject. The corpus is found through `MOCAPD_MOCAP_DIR`, else beside the clone
//! (`../shared/data/mocap`); tests that need it print "skipped: ..." and pass when it is absent.

use std::path::PathBuf;

use super::cmu;
use super::retarget::{self, CheckLimits};
use super::rigs;
use super::sources;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("MOCAPD_MOCAP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mocap"));
    if dir.join(cmu::MANIFEST_FILE).is_file() {
        Some(dir)
    } else {
        println!("skipped: no CMU corpus at {} (set MOCAPD_MOCAP_DIR)", dir.display());
        None
    }
}

use crate::bvh::Bvh;
use crate::skeleton::fk::forward_kinematics;
use crate::skeleton::rotation::{add, axis_angle_to_quat, dot, norm, quat_rotate, scale, sub, Quat, Vec3, QUAT_IDENTITY};
use crate::skeleton::smpl::{self, NUM_JOINTS};

/// Source positions (source units) of BVH joints and `Joint/End` End Sites, by the BVH's own
/// forward kinematics at `frame` (`None`: the rest pose, every rotation identity).
fn bvh_positions(bvh: &Bvh, frame: Option<usize>) -> impl Fn(&str) -> Vec3 + '_ {
    let (t, r): (Vec<Vec3>, Vec<Quat>) = match frame {
        Some(f) => bvh.local_pose(f).expect("frame"),
        None => (bvh.rest_offsets(), vec![QUAT_IDENTITY; bvh.joints.len()]),
    };
    let posed = forward_kinematics(&bvh.parents(), &t, &r, t[0]);
    move |name: &str| {
        let (joint, end) = match name.strip_suffix("/End") {
            Some(j) => (j, true),
            None => (name, false),
        };
        let i = bvh.joint_index(joint).unwrap_or_else(|| panic!("no joint {joint}"));
        if end {
            add(posed.positions[i], quat_rotate(posed.global[i], bvh.joints[i].end_site.expect("End Site")))
        } else {
            posed.positions[i]
        }
    }
}

/// Nearest SMPL ancestor of `j` that `rig` maps, and the SMPL joints from `j` up to it
/// (exclusive).
fn mapped_ancestor(map: &[Option<&str>; NUM_JOINTS], j: usize) -> (usize, Vec<usize>) {
    let mut path = vec![j];
    let mut a = smpl::parent(j).expect("non-root");
    while map[a].is_none() {
        path.push(a);
        a = smpl::parent(a).expect("pelvis is mapped");
    }
    (a, path)
}

/// One real file per rig: retargeted, it passes the take checks (feet on the floor, no flips, no
/// NaN), the take's bone lengths match the source's segments (BVH FK of the mapped joints) within
/// 1 cm, and posed on those bones the limbs match the source's limbs (facing fixed).
#[test]
fn each_cmu_rig_retargets_a_real_file() {
    let Some(dir) = corpus() else { return };
    let entries = cmu::list_dir(&dir).expect("manifest");
    // (rig, file, yaw of the source's rest onto SMPL's +Z facing, about +Y)
    let cases: [(&rigs::RigMap, &str, f32); 4] = [
        (&rigs::CMU_DAZ, "cmu/07/07_01.bvh", 0.0),
        (&rigs::CMU_MAX, "cmu/131/131_01.bvh", 0.0),
        (&rigs::CMU_HUMANOID3D, "cmu/16/16_07.bvh", -std::f32::consts::FRAC_PI_2),
        (&rigs::CMU, "cmu/01/01_01.bvh", 0.0),
    ];
    for (rig, file, yaw) in cases {
        let e = entries.iter().find(|e| e.rel == file).unwrap_or_else(|| panic!("{file} not in the manifest"));
        let named = rigs::rig(e.skeleton.as_deref().expect("skeleton column")).expect("known skeleton");
        assert_eq!(named.name, rig.name, "{file}: manifest skeleton");
        assert!(e.trimmed, "the corpus dropped the lead T-pose");
        let rig = rigs::RigMap { skip_frames: 0, ..*rig };
        let bvh = Bvh::read(&e.path).expect("reads");
        let l = sources::load(&e.path, Some(&rig), file).unwrap_or_else(|err| panic!("{file}: {err}"));
        let m = &l.motion;
        assert_eq!(m.len(), bvh.frames.len(), "{file}: 30 fps in, 30 fps out");
        assert!(m.root.iter().flatten().chain(m.rotations.iter().flatten().flatten()).all(|v| v.is_finite()), "{file}: NaN");
        let stats = retarget::check(m, &CheckLimits::default()).unwrap_or_else(|why| panic!("{file}: {why}"));
        assert!(stats.grounded > 0.5, "{file}: {stats:?}");
        let bones = l.bones.expect("bone lengths");
        let mut map: [Option<&str>; NUM_JOINTS] = [None; NUM_JOINTS];
        for &(j, name) in rig.joints {
            map[j] = Some(name);
        }
        // Bone lengths vs the source's segments at the rest pose and at the first frame.
        let rest = bvh_positions(&bvh, None);
        let first = bvh_positions(&bvh, Some(0));
        let posed = retarget::fk_with_bones(&m.rotations[0], m.root[0], &bones);
        let mut worst = (0.0f32, 0usize, 0.0f32);
        for j in 1..NUM_JOINTS {
            let Some(name) = map[j] else { continue };
            let (a, path) = mapped_ancestor(&map, j);
            let an = map[a].expect("mapped");
            let chain: f32 = path.iter().map(|&k| bones[k]).sum();
            let src_rest = norm(sub(rest(name), rest(an))) * rig.scale;
            let src_first = norm(sub(first(name), first(an))) * rig.scale;
            assert!((chain - src_rest).abs() < 0.01, "{file}: SMPL {a}->{j} is {chain:.4} m, source {an}->{name} {src_rest:.4} m");
            if (chain - src_first).abs() > worst.0 {
                worst = ((chain - src_first).abs(), j, src_first);
            }
            if path.len() == 1 {
                // After retargeting, posed on the take's bones.
                let len = norm(sub(posed[j], posed[a]));
                assert!((len - src_first).abs() < 0.01, "{file}: posed bone {a}->{j} is {len:.4} m, source {an}->{name} {src_first:.4} m");
            }
        }
        println!("{file}: worst first-frame segment difference {:.4} m (joint {}, source {:.3} m)", worst.0, worst.1, worst.2);
        // Limbs posed on the take's bones follow the source's limbs (facing fixed by `yaw`).
        let turn = axis_angle_to_quat([0.0, yaw, 0.0]);
        let limbs = [(1, 10), (2, 11), (16, 20), (17, 21), (1, 7), (16, 18)];
        let mut worst = 0.0f32;
        for f in (0..m.len()).step_by(7) {
            let src = bvh_positions(&bvh, Some(f));
            let p = retarget::fk_with_bones(&m.rotations[f], m.root[f], &bones);
            for (a, b) in limbs {
                let s = quat_rotate(turn, scale(sub(src(map[b].expect("mapped")), src(map[a].expect("mapped"))), rig.scale));
                let d = sub(p[b], p[a]);
                let err = norm(sub(d, s));
                worst = worst.max(err);
                assert!(err < 0.01, "{file} frame {f}: SMPL {a}->{b} {d:?} vs source {s:?}");
            }
        }
        // The rest pose faces +Z: the toes are in front of the ankles.
        let p = retarget::fk_with_bones(&[QUAT_IDENTITY; NUM_JOINTS], [0.0; 3], &bones);
        let toe = quat_rotate(turn, sub(rest(map[10].expect("toe")), rest(map[7].expect("ankle"))));
        assert!(dot(toe, [0.0, 0.0, 1.0]) > 0.0 && p[10][2] > p[7][2] - 0.02, "{file}: rest facing");
        println!(
            "{file} ({}): {:.1} s, {:.0} % of still-foot frames grounded, max {:.0} rad/s, limbs within {:.1} mm, thigh {:.3} m, shin {:.3} m",
            rig.name,
            stats.seconds,
            stats.grounded * 100.0,
            stats.max_angular_speed.0,
            worst * 1000.0,
            bones[4],
            bones[7]
        );
    }
}

/// A DeepMimic-humanoid BVH (the corpus's `cmu_deepmimic_humanoid3d` hierarchy) walking along
/// +X for `frames` frames at 30 fps: hips and knees swing about Z, the arms hang.
fn humanoid3d_bvh(frames: usize) -> String {
    let mut s = String::from(
        "HIERARCHY\nROOT root\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation\n \
         JOINT chest\n {\n  OFFSET 0 0.236151 0\n  CHANNELS 3 Zrotation Yrotation Xrotation\n  \
         JOINT neck\n  {\n   OFFSET 0 0.223894 0\n   CHANNELS 3 Zrotation Yrotation Xrotation\n   End Site\n   {\n    OFFSET 0 0.28 0\n   }\n  }\n",
    );
    for (side, z) in [("right", 0.18311), ("left", -0.18311)] {
        s += &format!(
            "  JOINT {side}_shoulder\n  {{\n   OFFSET -0.02405 0.2435 {z}\n   CHANNELS 3 Zrotation Yrotation Xrotation\n   \
             JOINT {side}_elbow\n   {{\n    OFFSET 0 -0.274788 0\n    CHANNELS 3 Zrotation Yrotation Xrotation\n    \
             JOINT {side}_wrist\n    {{\n     OFFSET 0 -0.258947 0\n     CHANNELS 3 Zrotation Yrotation Xrotation\n     \
             End Site\n     {{\n      OFFSET 0 -0.08 0\n     }}\n    }}\n   }}\n  }}\n"
        );
    }
    s += " }\n";
    for (side, z) in [("right", 0.084887), ("left", -0.084887)] {
        s += &format!(
            " JOINT {side}_hip\n {{\n  OFFSET 0 0 {z}\n  CHANNELS 3 Zrotation Yrotation Xrotation\n  \
             JOINT {side}_knee\n  {{\n   OFFSET 0 -0.421546 0\n   CHANNELS 3 Zrotation Yrotation Xrotation\n   \
             JOINT {side}_ankle\n   {{\n    OFFSET 0 -0.40987 0\n    CHANNELS 3 Zrotation Yrotation Xrotation\n    \
             End Site\n    {{\n     OFFSET 0.1335 -0.05 0\n    }}\n   }}\n  }}\n }}\n"
        );
    }
    s += &format!("}}\nMOTION\nFrames: {frames}\nFrame Time: 0.0333333\n");
    for f in 0..frames {
        let t = f as f32 / 30.0;
        let swing = 20.0 * (t * 6.0).sin();
        let knee = -15.0 * (1.0 + (t * 6.0).cos());
        let mut v = vec![t, 0.88, 0.0, 0.0, 0.0, 0.0]; // root
        v.extend([0.0; 6]); // chest, neck
        v.extend([0.0; 18]); // arms
        v.extend([swing, 0.0, 0.0, knee, 0.0, 0.0, 0.0, 0.0, 0.0]); // right leg
        v.extend([-swing, 0.0, 0.0, knee, 0.0, 0.0, 0.0, 0.0, 0.0]); // left leg
        s += &v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(" ");
        s.push('\n');
    }
    s
}

/// A folder without a manifest: every `.bvh` below it, rig detected from joint names, no
/// subject; the build reads it and splits its takes by take.
#[test]
fn folder_without_manifest_is_read_by_joint_names() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("mine");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::write(dir.join("walk_a.bvh"), humanoid3d_bvh(90)).expect("write");
    std::fs::write(dir.join("sub/walk_b.bvh"), humanoid3d_bvh(120)).expect("write");
    std::fs::write(dir.join("notes.txt"), "not motion").expect("write");
    let entries = cmu::list_dir(&dir).expect("list");
    let rels: Vec<&str> = entries.iter().map(|e| e.rel.as_str()).collect();
    assert_eq!(rels, ["sub/walk_b.bvh", "walk_a.bvh"]);
    assert!(entries.iter().all(|e| e.skeleton.is_none() && e.subject.is_none() && !e.trimmed));
    let bvh = Bvh::read(&entries[0].path).expect("parses");
    assert_eq!(sources::detect_rig(&bvh).map(|r| r.name), Some("cmu_deepmimic_humanoid3d"));
    let l = sources::load(&entries[0].path, None, "mine/sub/walk_b").expect("loads");
    assert_eq!(l.rig, "cmu_deepmimic_humanoid3d");
    retarget::check(&l.motion, &CheckLimits::default()).expect("passes the checks");
    // Facing: the source walks along +X (its forward), SMPL forward is +Z.
    let (a, b) = (l.motion.root[0], l.motion.root[l.motion.len() - 1]);
    assert!(b[2] - a[2] > 2.0 && (b[0] - a[0]).abs() < 0.05, "{a:?} -> {b:?}");
    // Through the build: both takes in, by take (one in validation), no test split.
    let o = crate::data::build::BuildOptions {
        raw_dir: tmp.path().join("no-raw"),
        out_dir: tmp.path().join("out"),
        bvh_dirs: vec![dir.clone()],
        cameras: 1,
        speeds: vec![1.0],
        mirror: false,
        procedural_minutes: 0.0,
        mixed_takes: 0,
        shard_size: 64,
        val_fraction: 0.5,
        progress: false,
        ..Default::default()
    };
    let rep = crate::data::build::build(&o).expect("build");
    println!("{rep}");
    let man = crate::data::build::read_manifest(&o.out_dir).expect("manifest");
    let ids: Vec<&str> = man.takes.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["cmu_deepmimic_humanoid3d/walk_b", "cmu_deepmimic_humanoid3d/walk_a"]);
    assert!(man.takes.iter().all(|t| t.meta.rig.as_deref() == Some("cmu_deepmimic_humanoid3d") && t.meta.subject.is_none()));
    assert_eq!(man.takes.iter().filter(|t| t.split == crate::data::build::Split::Val).count(), 1);
    assert_eq!(man.test.takes, 0);
    assert!(man.rejected.is_empty() && man.procedural_cap.is_none());
}

#[test]
fn manifest_tsv_columns_by_name() {
    let text = "path\tminutes\tskeleton\tsubject\ttrial\tcategory\tlicence\tlead_frames_dropped\n\
                cmu/05/05_01.bvh\t0.1\tcmu_cgspeed_daz\t5\t1\tdance\tfree\t6\n\
                \n\
                x/y.bvh\t\tcmu_cgspeed_mb\t\t\t\t\t0\n";
    let e = cmu::parse_manifest(std::path::Path::new("/c"), text).expect("parses");
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].path, PathBuf::from("/c/cmu/05/05_01.bvh"));
    assert_eq!((e[0].subject, e[0].trial, e[0].category.as_deref(), e[0].minutes), (Some(5), Some(1), Some("dance"), Some(0.1)));
    assert!(e[0].trimmed && e[1].subject.is_none() && e[1].licence.is_none());
    assert_eq!(rigs::rig(e[1].skeleton.as_deref().expect("skeleton")).map(|r| r.name), Some("cmu"));
    let err = cmu::parse_manifest(std::path::Path::new("/c"), "path\tsubject\na.bvh\tfive\n").expect_err("bad subject");
    assert_eq!(err, "line 2: subject `five` is not a whole number");
    assert!(cmu::parse_manifest(std::path::Path::new("/c"), "file\n").is_err());
    assert_eq!(cmu::subject_trial_from_stem("01_03"), Some((1, 3)));
    assert_eq!(cmu::subject_trial_from_stem("135_11"), Some((135, 11)));
    assert_eq!(cmu::subject_trial_from_stem("Boxing_Toes"), None);
}

#[test]
fn held_out_subjects_are_disjoint() {
    for s in cmu::VAL_SUBJECTS {
        assert!(!cmu::TEST_SUBJECTS.contains(&s), "subject {s} in val and test");
        assert_eq!(cmu::subject_split(s), cmu::HeldOut::Val);
    }
    for s in cmu::TEST_SUBJECTS {
        assert_eq!(cmu::subject_split(s), cmu::HeldOut::Test);
    }
    // The salsa partners stay together, in training.
    assert_eq!(cmu::subject_split(60), cmu::HeldOut::Train);
    assert_eq!(cmu::subject_split(61), cmu::HeldOut::Train);
}

/// The corpus through the build (one view per window, no augmentation): whole subjects per
/// split, every split non-empty, about 10 % of the minutes each over several categories, the
/// test shards written, bad takes listed with a reason, procedural motion capped.
#[test]
fn corpus_build_splits_by_subject() {
    use crate::data::build::{build, read_manifest, BuildOptions, Split};
    let Some(corpus) = corpus() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let o = BuildOptions {
        raw_dir: tmp.path().join("no-raw"),
        out_dir: tmp.path().join("out"),
        bvh_dirs: vec![corpus],
        cameras: 1,
        speeds: vec![1.0],
        mirror: false,
        stride: 150,
        procedural_stride: 150,
        mixed_takes: 2,
        shard_size: 4096,
        progress: false,
        ..Default::default()
    };
    let rep = build(&o).expect("build");
    println!("{rep}");
    let man = read_manifest(&o.out_dir).expect("manifest");
    let subj = &man.subjects;
    for (a, b) in [(&subj.train, &subj.val), (&subj.train, &subj.test), (&subj.val, &subj.test)] {
        assert!(a.iter().all(|s| !b.contains(s)), "a subject in two splits: {subj:?}");
    }
    assert!(!subj.train.is_empty() && !subj.val.is_empty() && !subj.test.is_empty(), "{subj:?}");
    assert!(man.train.samples > 0 && man.val.samples > 0 && man.test.samples > 0);
    for t in &man.takes {
        if let Some(s) = t.meta.subject {
            let want = match cmu::subject_split(s) {
                cmu::HeldOut::Train => Split::Train,
                cmu::HeldOut::Val => Split::Val,
                cmu::HeldOut::Test => Split::Test,
            };
            assert_eq!(t.split, want, "{}", t.id);
        }
        if t.id.starts_with("mix/") {
            assert_eq!(t.split, Split::Train);
        }
    }
    let cmu_minutes =
        |split: Split| -> f32 { man.takes.iter().filter(|t| t.split == split && t.meta.subject.is_some()).map(|t| t.minutes).sum() };
    let total: f32 = Split::ALL.iter().map(|&s| cmu_minutes(s)).sum();
    for split in [Split::Val, Split::Test] {
        let share = cmu_minutes(split) / total;
        assert!((0.07..0.14).contains(&share), "{}: {:.1} % of the CMU minutes", split.name(), share * 100.0);
        let categories = man.categories.iter().filter(|c| c.split == split && !c.category.starts_with('(')).count();
        assert!(categories >= 4, "{}: {categories} categories", split.name());
    }
    // Test shards hold only test takes.
    let test_shards: Vec<_> = man.shards.iter().filter(|s| s.split == Split::Test).collect();
    assert!(!test_shards.is_empty());
    for sh in test_shards {
        assert!(sh.file.starts_with("test-"));
        let t = candle_core::safetensors::load(o.out_dir.join(&sh.file), &candle_core::Device::Cpu).expect("shard");
        for i in t["take"].to_vec1::<i64>().expect("take") {
            assert_eq!(man.takes[i as usize].split, Split::Test);
        }
    }
    // Rejected takes: listed with a reason, not in the set.
    for r in &man.rejected {
        assert!(!r.reason.is_empty());
        assert!(man.takes.iter().all(|t| t.id != r.id), "{} rejected and kept", r.id);
    }
    // Procedural motion: at most a quarter of the training minutes.
    let cap = man.procedural_cap.as_ref().expect("the 30 default minutes are capped");
    assert!(cap.used < cap.requested);
    let train = |kind| man.takes.iter().filter(|t| t.split == Split::Train && t.kind == kind).map(|t| t.minutes).sum::<f32>();
    let (real, procedural) = (train(crate::data::build::TakeKind::Real), train(crate::data::build::TakeKind::Procedural));
    assert!(procedural / (real + procedural) <= 0.26, "procedural {procedural:.2} of {:.2}", real + procedural);
}
