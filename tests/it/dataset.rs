//! Data-set tests: a small build (shapes, NaNs, split by take, 6D validity, contacts, 2D
//! normalisation, determinism), procedural motion limits, error messages, stats.

use std::path::Path;

use candle_core::{DType, Device};
use mocapd::data::build::{build, read_manifest, BuildOptions, Split};
use mocapd::data::procedural::{self, ProceduralOptions, JOINT_LIMITS, MAX_ANGULAR_SPEED, MAX_ROOT_SPEED};
use mocapd::data::DataError;
use mocapd::skeleton::rotation::{quat_angle, quat_to_axis_angle, sixd_to_mat};
use rand::SeedableRng;

use crate::support::data::raw_dir;

fn small(out: &Path, seed: u64) -> BuildOptions {
    BuildOptions {
        raw_dir: raw_dir().to_path_buf(),
        out_dir: out.to_path_buf(),
        seed,
        cameras: 1,
        sources: vec!["deepmimic".into(), "mocapbank".into()],
        max_takes_per_source: 3,
        speeds: vec![1.0, 1.25],
        procedural_minutes: 0.7,
        procedural: ProceduralOptions { seconds: 10.0, ..Default::default() },
        mixed_takes: 1,
        val_fraction: 0.25,
        shard_size: 16,
        progress: false,
        ..BuildOptions::default()
    }
}

#[test]
fn small_build_is_consistent_and_deterministic() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let rep = build(&small(&a, 7)).expect("build");
    println!("{rep}");
    let man = read_manifest(&a).expect("manifest");
    assert!(man.minutes_real > 0.0 && man.minutes_procedural > 0.0 && man.minutes_mixed > 0.0);
    assert_eq!(man.normalization.target_mean.len(), 151);
    assert!(man.normalization.target_std.iter().all(|s| s.is_finite()));
    // Split by take.
    let train: Vec<&str> = man.takes.iter().filter(|t| t.split == Split::Train).map(|t| t.id.as_str()).collect();
    let val: Vec<&str> = man.takes.iter().filter(|t| t.split == Split::Val).map(|t| t.id.as_str()).collect();
    assert!(!val.is_empty() && !train.is_empty());
    assert!(train.iter().all(|t| !val.contains(t)));
    let (mut n_train, mut n_val, mut n_test) = (0, 0, 0);
    let dev = Device::Cpu;
    for shard in &man.shards {
        let t = candle_core::safetensors::load(a.join(&shard.file), &dev).expect("load");
        let motion = &t["motion"];
        let pose = &t["pose2d"];
        let take = t["take"].to_vec1::<i64>().expect("take");
        assert_eq!(motion.dims(), &[shard.samples, 150, 151]);
        assert_eq!(pose.dims(), &[shard.samples, 150, 17, 3]);
        assert_eq!(motion.dtype(), DType::F32);
        assert_eq!(take.len(), shard.samples);
        for id in &take {
            assert_eq!(man.takes[*id as usize].split, shard.split, "take {id} in the wrong split");
        }
        match shard.split {
            Split::Train => n_train += shard.samples,
            Split::Val => n_val += shard.samples,
            Split::Test => n_test += shard.samples,
        }
        let m = motion.flatten_all().expect("f").to_vec1::<f32>().expect("v");
        let p = pose.flatten_all().expect("f").to_vec1::<f32>().expect("v");
        assert!(m.iter().chain(&p).all(|x| x.is_finite()), "NaN in {}", shard.file);
        for frame in m.chunks(151) {
            for j in 0..24 {
                let six: [f32; 6] = std::array::from_fn(|k| frame[j * 6 + k]);
                let r = sixd_to_mat(&six);
                // Stored 6D = two orthonormal columns of a proper rotation.
                let n0 = (six[0] * six[0] + six[1] * six[1] + six[2] * six[2]).sqrt();
                let n1 = (six[3] * six[3] + six[4] * six[4] + six[5] * six[5]).sqrt();
                let d = six[0] * six[3] + six[1] * six[4] + six[2] * six[5];
                let det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
                    + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
                assert!(
                    (n0 - 1.0).abs() < 1e-3 && (n1 - 1.0).abs() < 1e-3 && d.abs() < 1e-3 && (det - 1.0).abs() < 1e-3,
                    "joint {j}: {six:?}"
                );
            }
            assert!(frame[144..148].iter().all(|c| *c == 0.0 || *c == 1.0));
        }
        // 2D: hips present -> hip midpoint at the origin; torso about 1.
        let mut torsos = Vec::new();
        for k in p.chunks(51) {
            let kp = |i: usize| [k[i * 3], k[i * 3 + 1], k[i * 3 + 2]];
            let (lh, rh) = (kp(11), kp(12));
            if lh[2] >= 0.2 && rh[2] >= 0.2 {
                assert!((lh[0] + rh[0]).abs() < 1e-3 && (lh[1] + rh[1]).abs() < 1e-3, "{lh:?} {rh:?}");
                let (ls, rs) = (kp(5), kp(6));
                if ls[2] >= 0.2 && rs[2] >= 0.2 {
                    torsos.push((((ls[0] + rs[0]) * 0.5).powi(2) + ((ls[1] + rs[1]) * 0.5).powi(2)).sqrt());
                }
            }
            for i in 0..17 {
                let q = kp(i);
                assert!(q[2] == 0.0 || q[2] >= 0.2, "score {q:?}");
                assert!(q[0].abs() < 20.0 && q[1].abs() < 20.0, "{q:?}");
            }
        }
        torsos.sort_by(f32::total_cmp);
        let med = torsos[torsos.len() / 2];
        assert!((0.7..1.4).contains(&med), "median torso {med}");
    }
    assert_eq!(n_train, man.train.samples);
    assert_eq!(n_val, man.val.samples);
    assert_eq!(n_test, man.test.samples);
    assert_eq!(man.train.samples, man.train.clips);
    // Deterministic: same seed, same bytes.
    build(&small(&b, 7)).expect("build again");
    for shard in &man.shards {
        let x = std::fs::read(a.join(&shard.file)).expect("a");
        let y = std::fs::read(b.join(&shard.file)).expect("b");
        assert!(x == y, "{} differs", shard.file);
    }
    let mut man_b = read_manifest(&b).expect("manifest b");
    man_b.options.out_dir = man.options.out_dir.clone();
    assert!(man_b == man, "manifests differ beyond out_dir");
    // Stats from the built set.
    let st = mocapd::data::stats::stats(&a).expect("stats");
    println!("{st}");
    assert!(st.contact_ratio.iter().all(|r| (0.0..=1.0).contains(r)));
    assert_eq!(st.joints.len(), 24);
}

#[test]
fn procedural_motion_respects_limits_and_speeds() {
    for seed in 0..6u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let m = procedural::generate(&ProceduralOptions { seconds: 30.0, ..Default::default() }, &mut rng);
        assert_eq!(m.len(), 900);
        let mut max_w = 0.0f32;
        for f in 0..m.len() {
            for (j, limits) in JOINT_LIMITS.iter().enumerate().skip(1) {
                let aa = quat_to_axis_angle(m.rotations[f][j]);
                for (k, &(lo, hi)) in limits.iter().enumerate() {
                    assert!(
                        aa[k] >= lo - 1e-3 && aa[k] <= hi + 1e-3,
                        "seed {seed} frame {f} joint {j} axis {k}: {} not in {lo}..{hi}",
                        aa[k]
                    );
                }
            }
            if f > 0 {
                for j in 0..24 {
                    max_w = max_w.max(quat_angle(m.rotations[f - 1][j], m.rotations[f][j]) * m.fps);
                }
                let (a, b) = (m.root[f - 1], m.root[f]);
                let v = ((b[0] - a[0]).powi(2) + (b[2] - a[2]).powi(2)).sqrt() * m.fps;
                assert!(v <= MAX_ROOT_SPEED + 1e-3, "root speed {v}");
            }
            // Feet on the floor.
            let p = m.positions(f).expect("pose");
            let low = [7, 8, 10, 11].map(|j| p[j][1]).into_iter().fold(f32::MAX, f32::min);
            assert!(low.abs() < 1e-4, "lowest foot {low}");
        }
        assert!(max_w <= MAX_ANGULAR_SPEED, "seed {seed}: angular speed {max_w} rad/s");
        assert!(max_w > 1.0, "seed {seed}: too still ({max_w} rad/s)");
        println!("seed {seed}: max angular speed {max_w:.2} rad/s");
    }
}

#[test]
fn bad_input_gives_clear_errors() {
    use mocapd::motion::Motion;
    let empty = Motion { fps: 30.0, root: vec![], rotations: vec![] };
    let e = mocapd::data::sources::validate("x/empty", &empty).expect_err("empty");
    assert!(matches!(e, DataError::EmptyClip { .. }));
    assert_eq!(e.to_string(), "take `x/empty` is empty (no frames)");
    let mut nan = Motion { fps: 30.0, root: vec![[0.0; 3]; 3], rotations: vec![[[0.0, 0.0, 0.0, 1.0]; 24]; 3] };
    nan.root[2][1] = f32::NAN;
    let e = mocapd::data::sources::validate("x/nan", &nan).expect_err("nan");
    assert_eq!(e.to_string(), "take `x/nan` has a NaN or infinite value at frame 2");
    // A BVH with NaN channel values or no frames is refused when loading.
    let tmp = tempfile::tempdir().expect("tmp");
    let p = tmp.path().join("nan.bvh");
    std::fs::write(&p, "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\nEnd Site\n{\nOFFSET 0 1 0\n}\n}\nMOTION\nFrames: 1\nFrame Time: 0.0333\n0 nan 0 0 0 0\n").unwrap();
    let e = mocapd::data::sources::load_file(&p, None, "nan").expect_err("nan bvh");
    println!("{e}");
    assert!(e.to_string().contains("NaN"), "{e}");
    // An empty raw folder and no procedural minutes: no takes.
    let opts = BuildOptions {
        raw_dir: tmp.path().join("none"),
        out_dir: tmp.path().join("out"),
        procedural_minutes: 0.0,
        progress: false,
        ..Default::default()
    };
    let e = build(&opts).expect_err("no takes");
    assert!(matches!(e, DataError::NoTakes { .. }), "{e}");
    let e = build(&BuildOptions { cameras: 0, ..opts }).expect_err("bad options");
    assert_eq!(e.to_string(), "invalid option: --cameras must be at least 1");
}

#[test]
fn preview_writes_a_small_png() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("p.png");
    let o = mocapd::data::preview::PreviewOptions {
        clip: "deepmimic/walk".into(),
        raw_dir: raw_dir().to_path_buf(),
        out: out.clone(),
        frames: 4,
        ..Default::default()
    };
    let rep = mocapd::data::preview::preview(&o).expect("preview");
    assert_eq!(rep.frames_shown.len(), 4);
    assert!(rep.bytes > 1000 && rep.bytes < 300_000, "{} bytes", rep.bytes);
    assert_eq!(&std::fs::read(&out).expect("png")[1..4], b"PNG");
    let e = mocapd::data::preview::preview(&mocapd::data::preview::PreviewOptions { clip: "nope".into(), ..o }).expect_err("unknown");
    assert!(e.to_string().contains("neither a motion file nor a fetched source"), "{e}");
}
