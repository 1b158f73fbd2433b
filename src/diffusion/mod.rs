//! The diffusion process the sampler inverts: the noise schedule and forward noising q(x_t | x0)
//! with scalar or per-frame timesteps (ViMo §3.3 (i)). Training (PTSS, weightings, losses) is the
//! PyTorch package's (`python/mocapd_train`).
pub mod schedule;

pub use schedule::NoiseSchedule;

use candle_core::{Device, Result, Shape, Tensor};
use rand::Rng;
use rand_distr::StandardNormal;

/// Standard normal f32 tensor from a caller-owned (seedable) RNG.
pub fn randn<R: Rng + ?Sized, S: Into<Shape>>(rng: &mut R, shape: S, dev: &Device) -> Result<Tensor> {
    let shape = shape.into();
    let v: Vec<f32> = (0..shape.elem_count()).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
    Tensor::from_vec(v, shape, dev)
}
