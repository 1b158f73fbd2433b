//! Diffusion training side: noise schedule, forward noising q(x_t | x0) with scalar or per-frame
//! (PTSS) timesteps, and SNR loss weightings (ViMo
//! §3.3 (i) Algorithm 1, §3.4 (iii), §IV).
pub mod schedule;
pub mod weighting;

pub use schedule::{NoiseSchedule, PSchedule, PtssSampler};
pub use weighting::{weighted_x0_loss, LossWeighting, Weighting};

use candle_core::{Device, Result, Shape, Tensor};
use rand::Rng;
use rand_distr::StandardNormal;

/// Standard normal f32 tensor from a caller-owned (seedable) RNG.
pub fn randn<R: Rng + ?Sized, S: Into<Shape>>(rng: &mut R, shape: S, dev: &Device) -> Result<Tensor> {
    let shape = shape.into();
    let v: Vec<f32> = (0..shape.elem_count()).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
    Tensor::from_vec(v, shape, dev)
}
