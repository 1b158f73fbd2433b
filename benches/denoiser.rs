//! Criterion benchmarks of the ViMo denoiser on the CPU: one forward (150 frames, batch 1 and 2,
//! small and big presets) and one complete few-step DDIM update as the daemon runs it, with
//! candle and on ONNX Runtime (`denoiser/{small,big}/ort/…`, `[pipeline] engine`).

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use criterion::Criterion;
use mocapd::diffusion::NoiseSchedule;
use mocapd::model::onnx::OnnxDenoiser;
use mocapd::model::{Denoiser, ModelConfig};
use mocapd::sampler::{sample, Ddim, ModelX0, SampleOptions};
use rand::SeedableRng;

/// A randomly initialised denoiser loaded as plain tensors, as a checkpoint is at inference.
fn denoiser(cfg: &ModelConfig, dev: &Device) -> candle_core::Result<Denoiser> {
    let vm = VarMap::new();
    Denoiser::new(cfg, VarBuilder::from_varmap(&vm, DType::F32, dev))?;
    let data = vm.data().lock().map_err(|_| candle_core::Error::Msg("var map poisoned".into()))?;
    let vars = data.iter().map(|(k, v)| (k.clone(), v.as_tensor().detach())).collect();
    Denoiser::new(cfg, VarBuilder::from_tensors(vars, DType::F32, dev))
}

pub fn benches(c: &mut Criterion) {
    let dev = Device::Cpu;
    mocapd::model::tune_allocator();
    for (name, cfg) in [("small", ModelConfig::small()), ("big", ModelConfig::big())] {
        let m = denoiser(&cfg, &dev).expect("build denoiser");
        let ort = OnnxDenoiser::new(&m, None).map_err(|e| eprintln!("skipping the ONNX Runtime benches: {e}")).ok();
        for b in [1usize, 2] {
            let pose = Tensor::rand(0f32, 1., (b, 150, 17, 3), &dev).expect("pose");
            let x = Tensor::randn(0f32, 1., (b, 150, 151), &dev).expect("x");
            let t = Tensor::full(500f32, (b, 150), &dev).expect("t");
            let cond = m.encode(&pose, false).expect("encode");
            c.bench_function(&format!("denoiser/{name}/forward_b{b}"), |bench| bench.iter(|| m.forward(&x, &t, &cond).expect("forward")));
            if let Some(o) = &ort {
                c.bench_function(&format!("denoiser/{name}/ort/forward_b{b}"), |bench| {
                    bench.iter(|| o.forward(&x, &t, &cond).expect("forward"))
                });
            }
        }
        let ddim = Ddim::new(NoiseSchedule::seed_default(&dev).expect("schedule"), 0.0);
        let pose = Tensor::rand(0f32, 1., (1, 150, 17, 3), &dev).expect("pose");
        let engines = [("", None), ("ort/", ort.as_ref())];
        for ((steps, w), (engine, o)) in [(4usize, 0.0), (4, 1.5), (2, 0.0)].into_iter().flat_map(|sw| engines.map(|e| (sw, e))) {
            if !engine.is_empty() && o.is_none() {
                continue;
            }
            c.bench_function(&format!("denoiser/{name}/{engine}update_{steps}step_w{w}"), |bench| {
                let mut rng = rand::rngs::StdRng::seed_from_u64(0);
                bench.iter(|| {
                    let mx = if w == 0.0 { ModelX0::new(&m, &pose) } else { ModelX0::guided(&m, &pose) }.expect("encode");
                    let mx = match o {
                        Some(o) => mx.on_onnx(o),
                        None => mx,
                    };
                    let x = Tensor::randn(0f32, 1., (1, 150, 151), &dev).expect("noise");
                    let opts = SampleOptions { steps, guidance: w, infill: None };
                    sample(&mx, &ddim, x, &opts, &mut rng).expect("sample")
                })
            });
        }
    }
}
