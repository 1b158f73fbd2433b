//! Times one training step of the small model (forward + backward) with and without the FK
//! losses: `cargo run --release --example train_step_timing -- [batch]`.
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use mocapd::diffusion::{LossWeighting, NoiseSchedule, PSchedule, PtssSampler, Weighting};
use mocapd::model::{Denoiser, ModelConfig};
use mocapd::train::{diffusion_loss, losses::MotionNorm, LossConfig};
use rand::SeedableRng;

fn main() -> anyhow::Result<()> {
    mocapd::model::tune_allocator();
    let b: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(8);
    let dev = Device::Cpu;
    let cfg = ModelConfig::small();
    let vm = VarMap::new();
    let m = Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
    let sched = NoiseSchedule::seed_default(&dev)?;
    let x0 = Tensor::randn(0f32, 1., (b, 150, 151), &dev)?;
    let pose = Tensor::rand(0f32, 1., (b, 150, 17, 3), &dev)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for fk in [false, true] {
        let lc = LossConfig {
            ptss: PtssSampler::new(PSchedule::Constant(0.3), 1000),
            weighting: LossWeighting::new(Weighting::recommended(), false),
            cond_drop: 0.25,
            lambda_vel: 0.02,
            lambda_joints: 0.1,
            lambda_foot: 0.05,
            norm: fk.then(|| MotionNorm::new(&[0.0; 151], &[1.0; 151], 1e-2, &dev)).transpose()?,
        };
        for _ in 0..3 {
            let t = Instant::now();
            let l = diffusion_loss(&m, &sched, &lc, &x0, &pose, 0, &mut rng)?;
            let tf = t.elapsed().as_secs_f64();
            let _g = l.total.backward()?;
            println!("fk={fk} B={b}: forward {:.3} s, step {:.3} s", tf, t.elapsed().as_secs_f64());
        }
    }
    Ok(())
}
