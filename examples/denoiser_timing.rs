//! Timing note for the small ViMo denoiser (seed `/work/shared/seeds/000_2089a3e28466b77a.txt`,
//! target in `/work/shared/reference/build-and-speed.md`: 4-step DDIM update ≤ 20 ms).
//! Run: `RAYON_NUM_THREADS=1 cargo run --release --example denoiser_timing`.
use std::time::Instant;

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{VarBuilder, VarMap};
use mocapd::diffusion::NoiseSchedule;
use mocapd::model::{Activation, Denoiser, ModelConfig};
use mocapd::sampler::{sample, Ddim, ModelX0, SampleOptions};
use rand::SeedableRng;

/// (min, median) milliseconds over `n` runs after one warm-up; min is the better estimate of
/// intrinsic cost on a shared machine.
fn median_ms(n: usize, mut f: impl FnMut() -> Result<()>) -> Result<(f64, f64)> {
    f()?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Ok((v[0], v[n / 2]))
}

fn main() -> Result<()> {
    let dev = Device::Cpu;
    if std::env::var_os("NO_TUNE").is_none() {
        println!("tune_allocator: {}", mocapd::model::tune_allocator());
    }
    // RELU_ONLY=1 skips the GELU variant (for profiling).
    let acts: &[Activation] =
        if std::env::var_os("RELU_ONLY").is_some() { &[Activation::Relu] } else { &[Activation::Relu, Activation::Gelu] };
    for &act in acts {
        // MLP_RATIO=n overrides the preset's 4× MLP (a speed/size trade-off to measure).
        let mlp_ratio = std::env::var("MLP_RATIO").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
        let cfg = ModelConfig { activation: act, mlp_ratio, ..ModelConfig::small() };
        let vm = VarMap::new();
        let _ = Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        // Plain tensors (not Vars) so inference takes the fused kernels, as a loaded checkpoint does.
        let vars = vm.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.as_tensor().detach())).collect();
        let m = Denoiser::new(&cfg, VarBuilder::from_tensors(vars, DType::F32, &dev))?;
        let sched = NoiseSchedule::seed_default(&dev)?;
        let ddim = Ddim::new(sched, 0.0);
        for b in [1usize, 2] {
            let pose = Tensor::rand(0f32, 1., (b, 150, 17, 3), &dev)?;
            let x = Tensor::randn(0f32, 1., (b, 150, 151), &dev)?;
            let t = Tensor::full(500f32, (b, 150), &dev)?;
            let cond = m.encode(&pose, false)?;
            let enc = median_ms(20, || m.encode(&pose, false).map(|_| ()))?;
            let fwd = median_ms(30, || m.forward(&x, &t, &cond).map(|_| ()))?;
            let t1 = Tensor::full(500f32, b, &dev)?;
            let fwd1 = median_ms(30, || m.forward(&x, &t1, &cond).map(|_| ()))?;
            println!(
                "{act:?} B={b} S=150 d={}: encode {:.2}/{:.2} ms, forward per-frame t {:.2}/{:.2} ms, per-clip t {:.2}/{:.2} ms (min/median)",
                cfg.d_model, enc.0, enc.1, fwd.0, fwd.1, fwd1.0, fwd1.1
            );
        }
        let pose = Tensor::rand(0f32, 1., (1, 150, 17, 3), &dev)?;
        for w in [0.0, 1.5] {
            let mut rng = rand::rngs::StdRng::seed_from_u64(0);
            let ms = median_ms(10, || {
                let mx = if w == 0.0 { ModelX0::new(&m, &pose)? } else { ModelX0::guided(&m, &pose)? };
                let x = Tensor::randn(0f32, 1., (1, 150, 151), &dev)?;
                let opts = SampleOptions { steps: 4, guidance: w, infill: None };
                sample(&mx, &ddim, x, &opts, &mut rng).map(|_| ())
            })?;
            println!("{act:?} 4-step DDIM update, B=1, w={w}: {:.2}/{:.2} ms min/median (incl. encode)", ms.0, ms.1);
        }
    }
    Ok(())
}
