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

fn median_ms(n: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Ok(v[n / 2])
}

fn main() -> Result<()> {
    let dev = Device::Cpu;
    if std::env::var_os("NO_TUNE").is_none() {
        println!("tune_allocator: {}", mocapd::model::tune_allocator());
    }
    for act in [Activation::Relu, Activation::Gelu] {
        let cfg = ModelConfig { activation: act, ..ModelConfig::small() };
        let vm = VarMap::new();
        let _ = Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        // Plain tensors (not Vars) so inference takes the fused kernels, as a loaded checkpoint does.
        let vars = vm.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.as_tensor().clone())).collect();
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
            println!("{act:?} B={b} S=150 d=128: encode {enc:.2} ms, forward {fwd:.2} ms");
        }
        let pose = Tensor::rand(0f32, 1., (1, 150, 17, 3), &dev)?;
        for w in [0.0, 1.5] {
            let mut rng = rand::rngs::StdRng::seed_from_u64(0);
            let ms = median_ms(10, || {
                let mx = ModelX0::new(&m, &pose)?;
                let x = Tensor::randn(0f32, 1., (1, 150, 151), &dev)?;
                let opts = SampleOptions { steps: 4, guidance: w, infill: None };
                sample(&mx, &ddim, x, &opts, &mut rng).map(|_| ())
            })?;
            println!("{act:?} 4-step DDIM update, B=1, w={w}: {ms:.2} ms (incl. encode)");
        }
    }
    Ok(())
}
