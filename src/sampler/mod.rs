//! Reverse diffusion from x0 predictions (ViMo
//! Algorithm 2, §3.3 (iv) classifier-free guidance, §3.5 (iii) masked in-filling, §IV DDIM):
//! a [`Scheduler`] trait with [`Ddpm`] and [`Ddim`], an [`X0Model`] trait (closures implement
//! it, so toys can test the loop), guidance x̂0 = (1+w)·D(x,t,p) − w·D(x,t,∅), and in-filling
//! x ← b ⊙ q(x_known, t_next) + (1 − b) ⊙ x after every step.
pub mod ddim;
pub mod ddpm;
pub mod model;

pub use ddim::Ddim;
pub use ddpm::Ddpm;
pub use model::ModelX0;

use candle_core::{DType, Result, Tensor};
use rand::Rng;

use crate::diffusion::{randn, NoiseSchedule};

/// Something that predicts x̂0 from (x_t \[B, S, D\], t: f32 \[B\] per clip or \[B, S\] per frame).
pub trait X0Model {
    /// Conditional prediction D(x, t, p).
    fn predict(&self, x_t: &Tensor, t: &Tensor) -> Result<Tensor>;
    /// Unconditional prediction D(x, t, ∅); defaults to the conditional one.
    fn predict_uncond(&self, x_t: &Tensor, t: &Tensor) -> Result<Tensor> {
        self.predict(x_t, t)
    }
    /// (conditional, unconditional); override to batch both into one forward of batch 2B.
    fn predict_pair(&self, x_t: &Tensor, t: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((self.predict(x_t, t)?, self.predict_uncond(x_t, t)?))
    }
}

impl<F: Fn(&Tensor, &Tensor) -> Result<Tensor>> X0Model for F {
    fn predict(&self, x_t: &Tensor, t: &Tensor) -> Result<Tensor> {
        self(x_t, t)
    }
}

/// Classifier-free guidance: w = 0 runs the conditional pass only.
pub fn guided_x0(m: &dyn X0Model, x_t: &Tensor, t: &Tensor, w: f64) -> Result<Tensor> {
    if w == 0.0 {
        return m.predict(x_t, t);
    }
    let (c, u) = m.predict_pair(x_t, t)?;
    c.affine(1.0 + w, 0.0)? - u.affine(w, 0.0)?
}

/// One reverse transition x_t → x_prev = c_x0·x̂0 + c_xt·x_t + σ·z.
pub trait Scheduler {
    fn schedule(&self) -> &NoiseSchedule;

    /// `n` descending timesteps from T − 1 to 0 (evenly spaced, rounded; n ≥ 1).
    fn timesteps(&self, n: usize) -> Vec<usize> {
        let last = self.schedule().num_steps() - 1;
        let n = n.clamp(1, last + 1);
        if n == 1 {
            return vec![last];
        }
        let mut v: Vec<usize> = (0..n).map(|i| ((last as f64) * (n - 1 - i) as f64 / (n - 1) as f64).round() as usize).collect();
        v.dedup();
        v
    }

    /// (c_x0, c_xt, σ) for the transition t → prev (prev < t).
    fn coefficients(&self, t: usize, prev: usize) -> (f64, f64, f64);

    /// x_prev from x_t and x̂0; `prev = None` (after the last timestep) returns x̂0.
    fn step(&self, x_t: &Tensor, x0_hat: &Tensor, t: usize, prev: Option<usize>, rng: &mut dyn rand::RngCore) -> Result<Tensor> {
        let Some(prev) = prev else { return Ok(x0_hat.clone()) };
        let (a, b, sigma) = self.coefficients(t, prev);
        let mean = (x0_hat.affine(a, 0.0)? + x_t.affine(b, 0.0)?)?;
        if sigma > 0.0 {
            let z = randn(rng, x_t.shape(), x_t.device())?;
            mean + z.affine(sigma, 0.0)?
        } else {
            Ok(mean)
        }
    }
}

/// How known frames are presented to the denoiser during in-filling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InfillMode {
    /// ViMo §3.5 (iii): known frames re-noised to the current level, x ← b ⊙ q(x_known,
    /// t_next) + (1 − b) ⊙ x; every frame shares the step's timestep.
    #[default]
    Renoise,
    /// Vectorised-timestep variant (FVDM): known frames stay clean and are given t = 0 per
    /// frame, the others the step's t. Needs a model trained with per-frame (PTSS) timesteps.
    CleanKnown,
}

/// Known frames for in-filling: `known` \[B, S, D\] and `mask` \[B, S\] (1 = known, 0 = generate).
#[derive(Debug, Clone, Copy)]
pub struct Infill<'a> {
    pub known: &'a Tensor,
    pub mask: &'a Tensor,
    pub mode: InfillMode,
    /// The noise of q(x_known, t) (\[B, S, D\]), the same at every step; `None`: fresh each step.
    pub noise: Option<&'a Tensor>,
}

impl Infill<'_> {
    /// b ⊙ q(known, t) + (1 − b) ⊙ x; t = None imposes the clean known frames.
    fn impose<R: Rng + ?Sized>(&self, x: &Tensor, sched: &NoiseSchedule, t: Option<usize>, rng: &mut R) -> Result<Tensor> {
        let b = self.mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let k = match (t, self.mode) {
            (Some(t), InfillMode::Renoise) => match self.noise {
                Some(n) => sched.q_sample_at(self.known, t, n)?,
                None => sched.q_sample_at(self.known, t, &randn(rng, x.shape(), x.device())?)?,
            },
            _ => self.known.clone(),
        };
        let keep = b.affine(-1.0, 1.0)?;
        k.broadcast_mul(&b)? + x.broadcast_mul(&keep)?
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SampleOptions<'a> {
    /// Number of reverse steps (DDIM: any; DDPM: T for Algorithm 2 exactly).
    pub steps: usize,
    /// Guidance weight w (0 = conditional only).
    pub guidance: f64,
    pub infill: Option<Infill<'a>>,
}

/// Runs the reverse process from `x_init` (noise x_T, \[B, S, D\]); returns x̂0.
pub fn sample<R: Rng>(model: &dyn X0Model, sched: &dyn Scheduler, x_init: Tensor, opts: &SampleOptions, rng: &mut R) -> Result<Tensor> {
    let (b, s, _) = x_init.dims3()?;
    let ts = sched.timesteps(opts.steps);
    let mut x = x_init;
    if let Some(inf) = &opts.infill {
        x = inf.impose(&x, sched.schedule(), Some(ts[0]), rng)?;
    }
    for (i, &t) in ts.iter().enumerate() {
        let prev = ts.get(i + 1).copied();
        // Per-clip t [B] (the denoiser broadcasts it over frames, cheaply), or per-frame [B, S]
        // when known frames sit at t = 0.
        let tt = match &opts.infill {
            Some(inf @ Infill { mode: InfillMode::CleanKnown, .. }) => {
                (Tensor::full(t as f32, (b, s), x.device())? * inf.mask.to_dtype(DType::F32)?.affine(-1.0, 1.0)?)?
            }
            _ => Tensor::full(t as f32, b, x.device())?,
        };
        let x0 = guided_x0(model, &x, &tt, opts.guidance)?;
        x = sched.step(&x, &x0, t, prev, rng)?;
        if let Some(inf) = &opts.infill {
            x = inf.impose(&x, sched.schedule(), prev, rng)?;
        }
    }
    Ok(x)
}

#[cfg(test)]
mod tests;
