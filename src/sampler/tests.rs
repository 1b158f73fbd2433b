//! Sampler tests: DDIM(η=1, all steps) ≡ DDPM posterior, timesteps, toy-denoiser runs,
//! in-filling keeps known frames, guidance w=0 equals the conditional pass.
use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;

use super::*;
use crate::diffusion::NoiseSchedule;
use crate::model::{Denoiser, ModelConfig};

fn sched() -> NoiseSchedule {
    NoiseSchedule::seed_default(&Device::Cpu).unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
}

#[test]
fn ddim_eta1_equals_ddpm_posterior() -> Result<()> {
    let ddpm = Ddpm::new(sched(), true);
    let ddim = Ddim::new(sched(), 1.0);
    let ts = ddim.timesteps(1000);
    assert_eq!(ts.len(), 1000);
    assert_eq!((ts[0], ts[999]), (999, 0));
    for w in ts.windows(2) {
        let (t, p) = (w[0], w[1]);
        let (a1, b1, s1) = ddpm.coefficients(t, p);
        let (a2, b2, s2) = ddim.coefficients(t, p);
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 + 1e-7 * y.abs();
        assert!(close(a1, a2) && close(b1, b2) && close(s1 * s1, s2 * s2), "t={t}: {a1} {a2} {b1} {b2} {s1} {s2}");
        // Algorithm 2's literal c1, c2, σ² with β_t, α_t of step t
        let s = ddpm.schedule();
        let c1 = s.alpha_bar[p].sqrt() * s.betas[t] / (1.0 - s.alpha_bar[t]);
        let c2 = s.alphas[t].sqrt() * (1.0 - s.alpha_bar[p]) / (1.0 - s.alpha_bar[t]);
        let v = s.betas[t] * (1.0 - s.alpha_bar[p]) / (1.0 - s.alpha_bar[t]);
        assert!(close(a1, c1) && close(b1, c2) && close(s1 * s1, v));
    }
    // deterministic DDPM (σ flag off) has no noise; strided DDIM η=1 still matches merged DDPM
    assert_eq!(Ddpm::new(sched(), false).coefficients(500, 499).2, 0.0);
    let (a1, b1, s1) = ddpm.coefficients(999, 666);
    let (a2, b2, s2) = ddim.coefficients(999, 666);
    assert!((a1 - a2).abs() < 1e-9 && (b1 - b2).abs() < 1e-9 && (s1 - s2).abs() < 1e-9);
    // tensor step with the same RNG gives the same x_prev
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1., (1, 4, 3), &dev)?;
    let x0 = Tensor::randn(0f32, 1., (1, 4, 3), &dev)?;
    let mut r1 = rand::rngs::StdRng::seed_from_u64(3);
    let mut r2 = rand::rngs::StdRng::seed_from_u64(3);
    let y1 = ddpm.step(&x, &x0, 500, Some(499), &mut r1)?;
    let y2 = ddim.step(&x, &x0, 500, Some(499), &mut r2)?;
    assert!(max_diff(&y1, &y2)? < 1e-5);
    Ok(())
}

#[test]
fn timesteps_spacing() {
    let d = Ddim::new(sched(), 0.0);
    assert_eq!(d.timesteps(4), vec![999, 666, 333, 0]);
    assert_eq!(d.timesteps(1), vec![999]);
    assert_eq!(d.timesteps(50).len(), 50);
}

#[test]
fn toy_denoiser_converges_to_its_prediction() -> Result<()> {
    let dev = Device::Cpu;
    let target = Tensor::full(0.5f32, (2, 8, 3), &dev)?;
    let toy = |_x: &Tensor, _t: &Tensor| -> Result<Tensor> { Ok(target.clone()) };
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let xt = crate::diffusion::randn(&mut rng, (2, 8, 3), &dev)?;
    for sch in [&Ddim::new(sched(), 0.0) as &dyn Scheduler, &Ddpm::new(sched(), true)] {
        let opts = SampleOptions { steps: 10, guidance: 0.0, infill: None };
        let out = sample(&toy, sch, xt.clone(), &opts, &mut rng)?;
        assert!(max_diff(&out, &target)? < 1e-6);
    }
    Ok(())
}

#[test]
fn infilling_keeps_known_frames() -> Result<()> {
    let dev = Device::Cpu;
    let (b, s, d) = (1, 10, 4);
    let known = Tensor::randn(0f32, 1., (b, s, d), &dev)?;
    // Known: first 3 and last 2 frames (in-betweening).
    let m: Vec<f32> = (0..s).map(|i| if (3..8).contains(&i) { 0.0 } else { 1.0 }).collect();
    let mask = Tensor::from_vec(m, (b, s), &dev)?;
    // A toy denoiser that knows nothing: predicts the (scaled) input.
    let toy = |x: &Tensor, _t: &Tensor| -> Result<Tensor> { x.affine(0.5, 0.0) };
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let xt = crate::diffusion::randn(&mut rng, (b, s, d), &dev)?;
    let infill = Infill { known: &known, mask: &mask, mode: InfillMode::Renoise, noise: None };
    for sch in [&Ddim::new(sched(), 0.0) as &dyn Scheduler, &Ddim::new(sched(), 1.0), &Ddpm::new(sched(), true)] {
        let opts = SampleOptions { steps: 20, guidance: 0.0, infill: Some(infill) };
        let out = sample(&toy, sch, xt.clone(), &opts, &mut rng)?;
        for r in [0, 1, 2, 8, 9] {
            assert!(max_diff(&out.narrow(1, r, 1)?, &known.narrow(1, r, 1)?)? < 1e-6);
        }
        assert!(max_diff(&out.narrow(1, 4, 1)?, &known.narrow(1, 4, 1)?)? > 1e-3);
    }
    // The intermediate re-imposition is q(known, t_next): at t = 0 it is within √(1−ᾱ_0)·|ε|.
    let s0 = sched();
    let x = Tensor::zeros((b, s, d), DType::F32, &dev)?;
    let y = infill.impose(&x, &s0, Some(0), &mut rng)?;
    let tol = 6.0 * (1.0 - s0.alpha_bar[0]).sqrt() as f32 + 1e-3;
    assert!(max_diff(&y.narrow(1, 0, 3)?, &known.narrow(1, 0, 3)?)? < tol);
    assert_eq!(y.narrow(1, 4, 3)?.abs()?.sum_all()?.to_scalar::<f32>()?, 0.0);

    // CleanKnown: the denoiser sees known frames clean with t = 0, the others at the step's t.
    let clean = Infill { mode: InfillMode::CleanKnown, ..infill };
    let checking = |x: &Tensor, t: &Tensor| -> Result<Tensor> {
        let tv = t.to_vec2::<f32>()?; // per-frame t in CleanKnown mode
        assert!(tv[0][0] == 0.0 && tv[0][9] == 0.0 && tv[0][3..8].iter().all(|v| *v == tv[0][5]));
        assert!(max_diff(&x.narrow(1, 0, 3)?, &known.narrow(1, 0, 3)?)? == 0.0);
        x.affine(0.5, 0.0)
    };
    let opts = SampleOptions { steps: 5, guidance: 0.0, infill: Some(clean) };
    let out = sample(&checking, &Ddim::new(sched(), 0.0), xt, &opts, &mut rng)?;
    assert_eq!(max_diff(&out.narrow(1, 8, 2)?, &known.narrow(1, 8, 2)?)?, 0.0);
    Ok(())
}

#[test]
fn guidance_with_model() -> Result<()> {
    let dev = Device::Cpu;
    let cfg = ModelConfig::tiny(16);
    let vm = VarMap::new();
    let m = Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
    let pose = Tensor::rand(0f32, 1., (2, 16, 17, 3), &dev)?;
    let mx = ModelX0::guided(&m, &pose)?;
    let unguided = ModelX0::new(&m, &pose)?;
    let x = Tensor::randn(0f32, 1., (2, 16, 151), &dev)?;
    let t = Tensor::full(400f32, (2, 16), &dev)?;
    let cond = m.forward(&x, &t, &m.encode(&pose, false)?)?;
    let unc = m.forward(&x, &t, &m.encode(&pose, true)?)?;
    // w = 0: exactly the conditional pass
    assert_eq!(max_diff(&guided_x0(&mx, &x, &t, 0.0)?, &cond)?, 0.0);
    // w = 2: (1+w)·cond − w·uncond from one batched forward
    let g = guided_x0(&mx, &x, &t, 2.0)?;
    let expect = (cond.affine(3.0, 0.0)? - unc.affine(2.0, 0.0)?)?;
    assert!(max_diff(&g, &expect)? < 1e-4);
    assert!(max_diff(&guided_x0(&unguided, &x, &t, 2.0)?, &expect)? < 1e-4);
    assert_eq!(max_diff(&guided_x0(&unguided, &x, &t, 0.0)?, &cond)?, 0.0);
    // a full guided 4-step DDIM run
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let opts = SampleOptions { steps: 4, guidance: 1.5, infill: None };
    let out = sample(&mx, &Ddim::new(sched(), 0.0), x, &opts, &mut rng)?;
    assert_eq!(out.dims(), &[2, 16, 151]);
    Ok(())
}
