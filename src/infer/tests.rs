//! Parity of the ONNX Runtime forward with candle's (max abs ≤ 1e-4): random-init models (FiLM
//! V1/V2, every activation) and the committed small checkpoint, per-frame and per-clip
//! timesteps, batch 1 and 2, the guided 2B pair, S < frames; and a 4-step DDIM sample with
//! in-filling through both engines; and the PyTorch trainer's parity fixture
//! (`tests/fixtures/parity`, written by `python -m mocapd_train.parity`): its checkpoints run in
//! candle and ONNX Runtime give the outputs PyTorch gave (≤ 1e-4).
use std::path::Path;

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::diffusion::{randn, NoiseSchedule};
use crate::model::onnx::OnnxDenoiser;
use crate::model::{load_checkpoint, Activation, Denoiser, FilmVariant, ModelConfig};
use crate::sampler::{sample, Ddim, Infill, InfillMode, ModelX0, SampleOptions, X0Model};

const TOL: f32 = 1e-4;

fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
}

fn onnx(m: &Denoiser) -> OnnxDenoiser {
    OnnxDenoiser::new(m, None).unwrap_or_else(|e| panic!("{e}"))
}

/// Max |candle − ORT| over batch 1 and 2, per-frame and per-clip t, the guided pair and a
/// shorter window.
fn parity(m: &Denoiser, o: &OnnxDenoiser) -> Result<f32> {
    let dev = Device::Cpu;
    let cfg = m.config();
    let mut worst = 0f32;
    let mut rng = StdRng::seed_from_u64(7);
    for (b, s) in [(1, cfg.frames), (2, cfg.frames), (1, cfg.frames - 3)] {
        let pose = Tensor::rand(0f32, 1., (b, s, 17, 3), &dev)?;
        let x = randn(&mut rng, (b, s, cfg.motion_dim), &dev)?;
        let per_frame = Tensor::rand(0f32, 999., (b, s), &dev)?;
        let per_clip = Tensor::new(&[500u32, 20][..b], &dev)?;
        for cond in [m.encode(&pose, false)?, m.encode(&pose, true)?] {
            for t in [&per_frame, &per_clip] {
                let y = m.forward(&x, t, &cond)?;
                worst = worst.max(max_diff(&y, &o.forward(&x, t, &cond).unwrap())?);
            }
        }
        let pair = m.encode_guided(&pose)?;
        let (x2, t2) = (Tensor::cat(&[&x, &x], 0)?, Tensor::cat(&[&per_frame, &per_frame], 0)?);
        worst = worst.max(max_diff(&m.forward(&x2, &t2, &pair)?, &o.forward(&x2, &t2, &pair).unwrap())?);
    }
    Ok(worst)
}

#[test]
fn random_init_parity() -> Result<()> {
    let variants = [
        ModelConfig::small(),
        ModelConfig { film: FilmVariant::V2, activation: Activation::Gelu, ..ModelConfig::small() },
        ModelConfig { activation: Activation::Silu, ..ModelConfig::tiny(16) },
        ModelConfig { frame_cond: true, ..ModelConfig::small() },
    ];
    for cfg in variants {
        let vm = VarMap::new();
        let m = Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
        let err = parity(&m, &onnx(&m))?;
        assert!(err <= TOL, "{:?}/{:?}: max abs diff {err}", cfg.film, cfg.activation);
    }
    Ok(())
}

#[test]
fn pytorch_fixture_parity() -> Result<()> {
    let dev = Device::Cpu;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity");
    let io = candle_core::safetensors::load(dir.join("inputs.safetensors"), &dev)?;
    let (pose, x, t) = (&io["pose"], &io["x_t"], &io["t"]);
    for (name, frame_cond) in [("v1", false), ("v2-frame", true)] {
        let ck = load_checkpoint(&dir.join(format!("{name}.safetensors")), &dev).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ck.config.frame_cond, frame_cond, "{name}");
        assert_eq!(ck.contract.as_deref(), Some("gravity-view"));
        let want = candle_core::safetensors::load(dir.join(format!("{name}.expected.safetensors")), &dev)?;
        let m = &ck.model;
        let o = onnx(m);
        for (drop, key) in [(false, "x0_cond"), (true, "x0_null")] {
            let cond = m.encode(pose, drop)?;
            let candle = max_diff(&m.forward(x, t, &cond)?, &want[key])?;
            let ort = max_diff(&o.forward(x, t, &cond).unwrap(), &want[key])?;
            eprintln!("{name} {key}: candle {candle:.2e}, ONNX Runtime {ort:.2e}");
            assert!(candle <= TOL && ort <= TOL, "{name} {key}: candle {candle}, ORT {ort} from PyTorch's output");
        }
    }
    Ok(())
}

/// The trainer's forward kinematics (PyTorch, `fk.safetensors` of the parity fixture) on random
/// feature frames, 6D pairs far from orthonormal: Rust's feature codec and SMPL-24 skeleton give
/// the same joints, so training and the daemon measure one skeleton.
#[test]
fn pytorch_forward_kinematics_parity() -> Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity");
    let fk = candle_core::safetensors::load(dir.join("fk.safetensors"), &Device::Cpu)?;
    let raw: Vec<Vec<f32>> = fk["raw"].to_vec2()?;
    let joints: Vec<Vec<Vec<f32>>> = fk["joints"].to_vec3()?;
    assert_eq!((raw.len(), raw[0].len(), joints[0].len()), (8, 151, 24));
    let mut worst = 0f32;
    for (r, want) in raw.iter().zip(&joints) {
        let got = crate::motion::codec::decode_frame(r).joints();
        for (g, w) in got.iter().zip(want) {
            worst = (0..3).map(|k| (g[k] - w[k]).abs()).fold(worst, f32::max);
        }
    }
    eprintln!("forward kinematics: max abs diff {worst:.2e} m");
    assert!(worst <= TOL, "joints differ from PyTorch's by {worst} m");
    Ok(())
}

#[test]
fn checkpoint_parity_and_ddim_infill() -> Result<()> {
    let dev = Device::Cpu;
    let path = Path::new(super::DEFAULT_CHECKPOINT);
    let ck = load_checkpoint(path, &dev).unwrap_or_else(|e| panic!("{e}"));
    let m = &ck.model;
    let o = onnx(m);
    let err = parity(m, &o)?;
    eprintln!("checkpoint parity: max abs diff {err:.2e}");
    assert!(err <= TOL, "checkpoint: max abs diff {err}");

    // 4-step DDIM, the first 50 frames in-filled, unguided and guided: same noise, both engines.
    let s = ck.config.frames;
    let sched = Ddim::new(NoiseSchedule::seed_default(&dev)?, 0.0);
    let pose = Tensor::rand(0f32, 1., (1, s, 17, 3), &dev)?;
    let known = randn(&mut StdRng::seed_from_u64(1), (1, s, ck.config.motion_dim), &dev)?;
    let mask = Tensor::from_vec((0..s).map(|i| f32::from(u8::from(i < 50))).collect::<Vec<_>>(), (1, s), &dev)?;
    for (guidance, mode) in [(0.0, InfillMode::Renoise), (1.5, InfillMode::CleanKnown)] {
        let run = |mx: &ModelX0| -> Result<Tensor> {
            let mut rng = StdRng::seed_from_u64(3);
            let x_t = randn(&mut rng, (1, s, ck.config.motion_dim), &dev)?;
            let infill = Some(Infill { known: &known, mask: &mask, mode, noise: None });
            sample(mx as &dyn X0Model, &sched, x_t, &SampleOptions { steps: 4, guidance, infill }, &mut rng)
        };
        let build = || if guidance != 0.0 { ModelX0::guided(m, &pose) } else { ModelX0::new(m, &pose) };
        let a = run(&build()?)?;
        let b = run(&build()?.on_onnx(&o))?;
        let d = max_diff(&a, &b)?;
        eprintln!("4-step DDIM (w = {guidance}, {mode:?}): max abs diff {d:.2e}");
        assert!(d <= 1e-3, "w = {guidance}: candle and ORT samples differ by {d}");
    }
    Ok(())
}

#[test]
fn missing_library_is_one_clear_error() -> Result<()> {
    let vm = VarMap::new();
    let m = Denoiser::new(&ModelConfig::tiny(8), VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
    let e = OnnxDenoiser::new(&m, Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err().to_string();
    assert!(e.contains("ONNX Runtime library not found") && e.contains("engine \"candle\""), "{e}");
    Ok(())
}
