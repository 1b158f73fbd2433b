//! End-to-end training on a tiny generated data set: the loss falls, the run folder is complete,
//! and a resumed run continues exactly like an uninterrupted one.
use std::path::Path;

use candle_core::{Device, Tensor};
use mocapd::data::build::*;
use mocapd::skeleton::rotation::{axis_angle_to_quat, quat_to_6d};
use mocapd::train::config::{OptimKind, Preset};
use mocapd::train::{train, TrainConfig};

const FRAMES: usize = 24;

/// One clip: a few joints swing with phase φ; the 2D condition encodes the same phase.
fn clip(phase: f32) -> (Vec<f32>, Vec<f32>) {
    let (mut m, mut p) = (Vec::new(), Vec::new());
    for f in 0..FRAMES {
        let a = 0.25 * f as f32 + phase;
        for j in 0..24 {
            let amp = if [1, 2, 4, 5, 16, 17, 18, 19].contains(&j) { 0.8 } else { 0.0 };
            m.extend(quat_to_6d(axis_angle_to_quat([amp * a.sin(), 0.0, 0.3 * amp * a.cos()])));
        }
        let c = if a.sin() > 0.0 { 1.0 } else { 0.0 };
        m.extend([c, c, 1.0 - c, 1.0 - c]);
        m.extend([0.02 * f as f32, 0.9, 0.0]);
        for k in 0..17 {
            p.extend([a.sin() * (k as f32 + 1.0) / 17.0, a.cos() * 0.5, 1.0]);
        }
    }
    (m, p)
}

fn write_shard(dir: &Path, file: &str, phases: &[f32]) {
    let (mut m, mut p) = (Vec::new(), Vec::new());
    for &ph in phases {
        let (a, b) = clip(ph);
        m.extend(a);
        p.extend(b);
    }
    let n = phases.len();
    let dev = Device::Cpu;
    let map = std::collections::HashMap::from([
        ("motion".to_string(), Tensor::from_vec(m, (n, FRAMES, 151), &dev).unwrap()),
        ("pose2d".to_string(), Tensor::from_vec(p, (n, FRAMES, 17, 3), &dev).unwrap()),
        ("take".to_string(), Tensor::zeros(n, candle_core::DType::I64, &dev).unwrap()),
    ]);
    candle_core::safetensors::save(&map, dir.join(file)).unwrap();
}

fn make_dataset(dir: &Path) {
    let train: Vec<f32> = (0..32).map(|i| i as f32 * 0.19).collect();
    let val: Vec<f32> = (0..8).map(|i| 0.1 + i as f32 * 0.77).collect();
    write_shard(dir, "train-00000.safetensors", &train);
    write_shard(dir, "val-00000.safetensors", &val);
    // stats over train
    let mut all = Vec::new();
    for &ph in &train {
        all.extend(clip(ph).0);
    }
    let nf = (all.len() / 151) as f32;
    let mean: Vec<f32> = (0..151).map(|d| all.iter().skip(d).step_by(151).sum::<f32>() / nf).collect();
    let std: Vec<f32> =
        (0..151).map(|d| (all.iter().skip(d).step_by(151).map(|x| (x - mean[d]).powi(2)).sum::<f32>() / nf).sqrt()).collect();
    let counts = |n| SplitCounts { takes: 1, clips: n, samples: n };
    let m = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        seed: 1,
        fps: 30.0,
        clip_len: FRAMES,
        feature_dim: 151,
        target_layout: TARGET_LAYOUT.into(),
        minutes_real: 0.0,
        minutes_procedural: 0.5,
        minutes_mixed: 0.0,
        procedural_share: 1.0,
        sources: vec![SourceInfo {
            name: "synthetic".into(),
            kind: TakeKind::Procedural,
            licence: "test".into(),
            takes: 2,
            minutes: 0.5,
            clips: 40,
        }],
        train: counts(32),
        val: counts(8),
        shards: vec![
            ShardInfo { file: "train-00000.safetensors".into(), split: Split::Train, samples: 32 },
            ShardInfo { file: "val-00000.safetensors".into(), split: Split::Val, samples: 8 },
        ],
        takes: Vec::new(),
        normalization: Normalization { target_mean: mean, target_std: std, pose2d: "test".into(), pose2d_min_score: 0.2 },
        options: BuildOptions::default(),
        // No test split, no CMU subjects or categories, nothing rejected or capped; the default contract.
        ..Manifest::default()
    };
    std::fs::write(dir.join("manifest.json"), serde_json::to_string(&m).unwrap()).unwrap();
}

fn tiny_config(data: &Path, out: &Path, steps: usize) -> TrainConfig {
    let mut c = TrainConfig { data_dir: data.into(), out_dir: out.into(), threads: 2, ..TrainConfig::default() };
    c.model.preset = Preset::Tiny;
    c.model.frames = 16;
    c.optim.kind = OptimKind::Adan;
    c.optim.lr = 3e-3;
    c.optim.weight_decay = 0.0;
    c.loss.p_steps = 100;
    c.schedule.batch_size = 8;
    c.schedule.steps = steps;
    c.schedule.val_every = 200;
    c.schedule.val_batches = 1;
    c.schedule.val_mpjpe_clips = 4;
    c.schedule.val_ddim_steps = 4;
    c.schedule.checkpoint_every = 100;
    c.schedule.log_every = 10;
    c.schedule.progress = false;
    c
}

#[test]
fn tiny_training_learns_writes_outputs_and_resumes_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    make_dataset(&data);

    // 1. loss falls ≥ 5x, every output exists
    let out = tmp.path().join("run");
    let rep = train(&tiny_config(&data, &out, 400), false).unwrap();
    let log = std::fs::read_to_string(out.join("log.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let first = recs.first().unwrap()["loss"].as_f64().unwrap();
    let last = recs.last().unwrap()["loss"].as_f64().unwrap();
    eprintln!("loss {first} -> {last}, {:.1} samples/s, val {:?}", rep.samples_per_s, rep.last_val);
    assert!(first > 5.0 * last, "loss did not fall 5x: {first} -> {last}");
    assert!(recs.last().unwrap()["val_mpjpe_mm"].as_f64().unwrap().is_finite());
    for f in ["log.jsonl", "loss.png", "checkpoint.safetensors", "optimizer.safetensors", "model-card.md"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let ck = mocapd::model::load_checkpoint(&out.join("checkpoint.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(ck.config.frames, 16);
    assert!(ck.stats.is_some());
    let card = std::fs::read_to_string(out.join("model-card.md")).unwrap();
    assert!(card.contains("synthetic") && card.contains("samples/s"));

    // 2. resume: 20 steps, then resume to 21 == 21 uninterrupted
    let a = tmp.path().join("a");
    let mut ca = tiny_config(&data, &a, 20);
    ca.schedule.checkpoint_every = 20;
    train(&ca, false).unwrap();
    ca.schedule.steps = 21;
    let resumed = train(&ca, true).unwrap();
    assert_eq!(resumed.start_step, 20);
    let b = tmp.path().join("b");
    let whole = train(&tiny_config(&data, &b, 21), false).unwrap();
    assert!(
        (resumed.last_loss - whole.last_loss).abs() <= 1e-6,
        "resumed step-21 loss {} vs uninterrupted {}",
        resumed.last_loss,
        whole.last_loss
    );
}
