//! `mocapd eval` tests: the test split of a tiny built data set scored per category with its
//! baselines (categories sum to `all`, the mean pose is the decoded train mean, the lookup finds
//! a training frame's own pose), every step count from the same noise, views and spread
//! subsets, the val split, a set without test windows, option checks, the sampler check, and
//! mode (b) on a ground-truth file.
use std::path::{Path, PathBuf};

use super::metrics::*;
use super::tests::{frame_of, keypoint_file, procedural, tiny_checkpoint, tiny_dataset, S};
use super::*;
use crate::data::procedural::ProceduralOptions;
use crate::model::{save_random_checkpoint_as, ModelConfig, MotionStats};
use crate::motion::codec::decode_frame;
use crate::motion::{write_motion, Contract, MotionFrame, MotionHeader};

pub(crate) fn tiny_dataset_with(dir: &Path, clip_len: usize, cameras: usize) -> PathBuf {
    let raw = dir.join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    let data = dir.join("train");
    let o = crate::data::build::BuildOptions {
        raw_dir: raw,
        out_dir: data.clone(),
        clip_len,
        stride: clip_len,
        cameras,
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

/// A tiny data set with a test split: its last training shard listed once more as a test shard
/// (so that the test windows are training windows too), its takes in two categories (`dance`
/// and `walk`, alternately).
fn tiny_test_dataset(dir: &Path, cameras: usize) -> (PathBuf, crate::data::build::Manifest) {
    use crate::data::build::{read_manifest, ShardInfo, Split};
    let data = tiny_dataset_with(dir, S, cameras);
    let mut m = read_manifest(&data).unwrap();
    let last = m.shards.iter().rfind(|sh| sh.split == Split::Train).unwrap().clone();
    m.shards.push(ShardInfo { split: Split::Test, ..last.clone() });
    let t = candle_core::safetensors::load(data.join(&last.file), &candle_core::Device::Cpu).unwrap();
    let mut takes = t["take"].to_vec1::<i64>().unwrap();
    takes.dedup();
    assert!(takes.len() >= 2, "one take in the test shard");
    for (k, &i) in takes.iter().enumerate() {
        m.takes[i as usize].meta.category = Some(if k % 2 == 0 { "dance" } else { "walk" }.into());
    }
    m.subjects.test = vec![5, 6];
    std::fs::write(data.join("manifest.json"), serde_json::to_string_pretty(&m).unwrap()).unwrap();
    (data, m)
}

/// A random checkpoint with the data set's statistics and the current contract.
fn dataset_checkpoint(dir: &Path, m: &crate::data::build::Manifest) -> PathBuf {
    let path = dir.join("ds.safetensors");
    let stats = MotionStats { mean: m.normalization.target_mean.clone(), std: m.normalization.target_std.clone() };
    save_random_checkpoint_as(&path, &ModelConfig::tiny(S), Some(&stats), Some(Contract::CURRENT.name())).unwrap();
    path
}

/// The test split of a shard file: `motion` and `pose2d` rows of each sample.
fn shard_rows(path: &Path) -> (Vec<Vec<Vec<f32>>>, Vec<f32>) {
    let t = candle_core::safetensors::load(path, &candle_core::Device::Cpu).unwrap();
    (t["motion"].to_vec3::<f32>().unwrap(), t["pose2d"].flatten_all().unwrap().to_vec1::<f32>().unwrap())
}

#[test]
fn eval_test_split_per_category_with_baselines() {
    use super::baselines::{at_root, mean_pose, root_relative, PoseLibrary, MIN_CONFIDENCE};
    use super::eval_report::{ALL, MEAN_POSE, NN_LOOKUP};
    let dir = tempfile::tempdir().unwrap();
    let (data, m) = tiny_test_dataset(dir.path(), 2);
    let ck = dataset_checkpoint(dir.path(), &m);
    let test = m.shards.last().unwrap().clone();
    let opts = EvalOptions { checkpoint: ck.clone(), data: data.clone(), steps: vec![2, 1, 2], batch: 3, ..Default::default() };
    let r = eval(&opts).unwrap();
    eprintln!("{r}");
    // The whole test split, every view, by default; both categories, `all` first.
    assert_eq!((r.mode.as_str(), r.windows, r.windows_in_split, r.views.as_str()), ("test", test.samples, test.samples, "all"));
    assert_eq!(r.frames, test.samples * S);
    assert_eq!(r.steps, vec![1, 2]);
    assert_eq!(r.subjects, vec![5, 6]);
    let names: Vec<&str> = r.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, [MEAN_POSE, NN_LOOKUP, "1-step", "2-step"]);
    assert_eq!(r.rows[0].category, ALL);
    let cats: Vec<&str> = r.rows[1..].iter().map(|c| c.category.as_str()).collect();
    assert!(cats.len() == 2 && cats.contains(&"dance") && cats.contains(&"walk"), "{cats:?}");
    let all = r.all().unwrap();
    assert_eq!(all.frames, r.rows[1..].iter().map(|c| c.frames).sum::<usize>());
    assert_eq!(all.windows, r.rows[1..].iter().map(|c| c.windows).sum::<usize>());
    for row in &r.rows {
        assert_eq!(row.scores.len(), 4);
        for s in &row.scores {
            let x = &s.metrics;
            for v in [x.mpjpe_mm, x.pa_mpjpe_mm, x.accel_error_mm, x.jitter_mm] {
                assert!(v.is_finite() && v >= 0.0, "{} {}: {x:?}", row.category, s.method);
            }
            assert!(x.pa_mpjpe_mm <= x.mpjpe_mm + 1e-3);
        }
    }
    // The mean-pose baseline is the decoded train mean at the target's root, frame by frame.
    let (motion, pose2d) = shard_rows(&data.join(&test.file));
    let mean = mean_pose(&m, &data).unwrap();
    assert_eq!(mean, root_relative(&decode_frame(&m.normalization.target_mean).rotations));
    let per: Vec<f32> = motion
        .iter()
        .map(|w| {
            let gt: Vec<MotionFrame> = w.iter().map(|r| decode_frame(r)).collect();
            let g: Vec<Joints> = gt.iter().map(|f| f.joints()).collect();
            let p: Vec<Joints> = gt.iter().map(|f| at_root(&mean, f.root)).collect();
            mpjpe(&p, &g)
        })
        .collect();
    let want = per.iter().sum::<f32>() / per.len() as f32;
    let got = all.score(MEAN_POSE).unwrap().mpjpe_mm;
    assert!((got - want).abs() < 1e-2, "mean pose MPJPE {got} vs {want}");
    // The test windows are training windows: the lookup finds most of them (every frame whose
    // joints are all confident is in the library), far better than the mean pose.
    let nn = all.score(NN_LOOKUP).unwrap().mpjpe_mm;
    assert!(nn < 0.5 * got, "NN lookup {nn} mm vs mean pose {got} mm");
    let lib = PoseLibrary::build(&data, &m, 1_000_000, 0, false).unwrap().unwrap();
    let nearest = lib.nearest(&pose2d).unwrap();
    let mut exact = 0;
    for (i, (p, n)) in pose2d.chunks_exact(51).zip(&nearest).enumerate() {
        if (0..17).all(|j| p[3 * j + 2] >= MIN_CONFIDENCE) {
            let own = root_relative(&decode_frame(&motion[i / S][i % S]).rotations);
            let found = lib.pose(n.unwrap());
            let d = (0..24).flat_map(|j| (0..3).map(move |c| (own[j][c] - found[j][c]).abs())).fold(0.0f32, f32::max);
            assert!(d < 1e-5, "frame {i}: its own pose is {d} m away");
            exact += 1;
        }
    }
    assert!(exact > pose2d.len() / 51 / 4, "{exact} fully confident frames");
    // Every step count starts from the same noise: 2 steps alone give the same numbers.
    let alone = eval(&EvalOptions { steps: vec![2], ..opts.clone() }).unwrap();
    assert_eq!(alone.all().unwrap().score("2-step"), all.score("2-step"));
    // One view per window; a spread subset; no lookup.
    let one = eval(&EvalOptions { views: Some(Views::One), library: 0, steps: vec![1], ..opts.clone() }).unwrap();
    assert_eq!((one.windows, one.views.as_str()), (test.samples / 2, "one"));
    assert!(one.library.is_none() && one.methods.iter().all(|m| m.name != NN_LOOKUP));
    let few = eval(&EvalOptions { max_windows: 3, steps: vec![1], ..opts.clone() }).unwrap();
    assert_eq!((few.windows, few.frames), (3, 3 * S));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["rows"][0]["category"], "all");
    assert!(json["rows"][0]["scores"][0]["mpjpe_mm"].is_number() && json["library"]["frames"].is_number());
    // The val split on request; a data set without test windows says what to do.
    let val = eval(&EvalOptions { split: crate::data::build::Split::Val, steps: vec![1], ..opts.clone() }).unwrap();
    assert_eq!(val.mode, "val");
    let plain = tiny_dataset(&dir.path().join("plain"), S);
    let e = eval(&EvalOptions { data: plain, ..opts }).unwrap_err().to_string();
    assert!(e.contains("no test windows") && e.contains("--split val"), "{e}");
}

#[test]
fn eval_options_are_checked_and_the_sampler_check_warns() {
    use super::eval_report::{sampler_warnings, Tally};
    let bad = |o: EvalOptions| validate_error(&o);
    assert!(bad(EvalOptions { steps: vec![], ..Default::default() }).contains("--steps"));
    assert!(bad(EvalOptions { steps: vec![1, 0], ..Default::default() }).contains("--steps must be in 1..=1000"));
    assert!(bad(EvalOptions { split: crate::data::build::Split::Train, ..Default::default() }).contains("--split"));
    assert_eq!("one".parse::<Views>(), Ok(Views::One));
    assert!("two".parse::<Views>().unwrap_err().contains("--views"));
    assert!(super::eval::parse_split("train").unwrap_err().contains("--split"));
    assert_eq!(super::eval::spread(&[0, 2, 4, 6, 8, 10], 3), vec![0, 4, 8]);
    assert_eq!(super::eval::spread(&[1, 2], 0), vec![1, 2]);
    // 4 steps worse than the 1-step x0 estimate: flagged; 8 steps better: not.
    let mut t = Tally::new(vec!["1-step".into(), "4-step".into(), "8-step".into()]);
    t.window("dance", S, 1.0);
    let m = |mm: f32| Metrics { mpjpe_mm: mm, pa_mpjpe_mm: mm, accel_error_mm: 1.0, jitter_mm: 1.0, foot_skate: None, foot_skate_gt: None };
    for (i, mm) in [100.0, 120.0, 90.0].into_iter().enumerate() {
        t.score("dance", i, &m(mm));
    }
    let rows = t.rows();
    assert_eq!(rows.iter().map(|r| (r.category.as_str(), r.windows, r.frames)).collect::<Vec<_>>(), [("all", 1, S), ("dance", 1, S)]);
    let mut r = EvalReport {
        mode: "test".into(),
        source: "d".into(),
        checkpoint: "c".into(),
        steps: vec![1, 4, 8],
        guidance: 0.0,
        engine: "candle".into(),
        seed: 0,
        windows: 1,
        windows_in_split: 1,
        views: "all".into(),
        frames: S,
        subjects: vec![],
        methods: vec![],
        library: None,
        streaming: None,
        rows,
        notes: vec![],
        warnings: vec![],
        seconds: 0.0,
    };
    r.warnings = sampler_warnings(&r);
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].contains("4-step") && r.warnings[0].contains("the sampler is hurting"), "{:?}", r.warnings);
    assert!(r.to_string().lines().last().unwrap().contains("the sampler is hurting"));
}

fn validate_error(o: &EvalOptions) -> String {
    o.validate().unwrap_err().to_string()
}

#[test]
fn eval_tiny_dataset_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let ck = tiny_checkpoint(dir.path());
    let data = tiny_dataset(dir.path(), S);
    let val = crate::data::build::Split::Val;
    let r = eval(&EvalOptions { checkpoint: ck.clone(), data, split: val, steps: vec![2], max_windows: 3, batch: 2, ..Default::default() })
        .unwrap();
    eprintln!("{r}");
    assert_eq!((r.mode.as_str(), r.windows, r.frames), ("val", 3, 3 * S));
    let m = *r.all().unwrap().score("2-step").unwrap();
    for v in [m.mpjpe_mm, m.pa_mpjpe_mm, m.accel_error_mm, m.jitter_mm] {
        assert!(v.is_finite() && v >= 0.0);
    }
    assert!(m.mpjpe_mm > 0.0);
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("pa_mpjpe_mm"));
    // mode (b): a ground-truth file and its keypoints, at two step counts
    let mo = procedural(60, 5);
    let kp = dir.path().join("kp.jsonl");
    keypoint_file(&kp, &mo, 10..15);
    let gt = dir.path().join("gt.jsonl");
    let frames: Vec<MotionFrame> = (0..60).map(|f| MotionFrame { inferred: false, ..frame_of(&mo, f) }).collect();
    write_motion(&gt, &MotionHeader::smpl24(30.0), &frames, 0.5).unwrap();
    let r = eval(&EvalOptions { checkpoint: ck, gt: Some((gt, kp)), steps: vec![2, 1], ..Default::default() }).unwrap();
    eprintln!("{r}");
    assert_eq!((r.mode.as_str(), r.frames, r.rows.len()), ("file", 55, 1));
    assert_eq!(r.methods.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["1-step", "2-step"]);
    for s in &r.all().unwrap().scores {
        assert!(s.metrics.mpjpe_mm.is_finite() && s.metrics.pa_mpjpe_mm <= s.metrics.mpjpe_mm + 1e-3);
    }
}

/// Not a test: writes a random small checkpoint (150-frame windows, the current contract, the
/// statistics of the data set in `$MOCAPD_EVAL_DATA`) to `$MOCAPD_RANDOM_CHECKPOINT`, to time
/// `mocapd eval` on a real data set before a trained model exists.
#[test]
#[ignore]
fn write_random_small_checkpoint() {
    let (Ok(out), Ok(data)) = (std::env::var("MOCAPD_RANDOM_CHECKPOINT"), std::env::var("MOCAPD_EVAL_DATA")) else {
        eprintln!("set MOCAPD_RANDOM_CHECKPOINT and MOCAPD_EVAL_DATA");
        return;
    };
    let m = crate::data::build::read_manifest(Path::new(&data)).unwrap();
    let stats = MotionStats { mean: m.normalization.target_mean.clone(), std: m.normalization.target_std.clone() };
    save_random_checkpoint_as(Path::new(&out), &ModelConfig::small(), Some(&stats), Some(m.contract.name())).unwrap();
}
