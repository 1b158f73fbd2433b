//! Lift speed with the small preset and random weights: windows/s over a synthetic 20 s
//! keypoint file (600 frames, 150-frame windows, hop 100 → 6 windows), DDIM 8 steps.
//! `cargo run --release --example lift_speed [STEPS] [GUIDANCE]`
use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use mocapd::lift::{lift_file, LiftOptions};
use mocapd::model::{save_checkpoint, Denoiser, ModelConfig};
use mocapd::pose::record::{Header, KeypointWriter};
use mocapd::pose::{Keypoint, Person, PoseFrame};

fn main() -> anyhow::Result<()> {
    mocapd::model::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    let steps = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(8);
    let guidance = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let dir = tempfile::tempdir()?;
    let cfg = ModelConfig::small();
    let vm = VarMap::new();
    Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
    let ck = dir.path().join("small.safetensors");
    save_checkpoint(&ck, &vm, &cfg, None)?;
    let kp = dir.path().join("kp.jsonl");
    let mut w = KeypointWriter::create(&kp, &Header::new(30.0, 1280, 720, "synthetic"))?;
    for f in 0..600u64 {
        let kps: [Keypoint; 17] = std::array::from_fn(|j| Keypoint {
            x: 600.0 + 10.0 * j as f32 + (f as f32 * 0.1).sin() * 20.0,
            y: 200.0 + 25.0 * j as f32,
            c: 0.9,
        });
        let people = vec![Person { id: 1, score: 0.9, bbox: [0.0, 0.0, 1.0, 1.0], keypoints: kps }];
        w.write(&PoseFrame { frame: f, t: f as f64 / 30.0, width: 1280, height: 720, performer: Some(1), people })?;
    }
    w.finish()?;
    let out = dir.path().join("out.jsonl");
    let r = lift_file(&kp, &out, &LiftOptions { checkpoint: ck, steps, guidance, ..Default::default() })?;
    println!("small preset, random weights, {steps} DDIM steps, guidance {guidance}: {} frames, {} windows in {:.2} s = {:.2} windows/s ({:.0} frames/s)", r.frames, r.windows, r.seconds, r.windows_per_second, r.frames as f64 / r.seconds);
    Ok(())
}
