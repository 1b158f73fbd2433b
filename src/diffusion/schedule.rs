//! Linear β schedule (1e-4 → 0.02, T = 1000), ᾱ, SNR, forward noising with scalar or per-frame
//! timesteps (ViMo Algorithm 1).
//!
//! Timesteps are 0-based indices t ∈ [0, T): ᾱ_t = ∏_{i ≤ t} (1 − β_i), so t = 0 is the least
//! noisy step and t = T − 1 is (almost) pure noise.
use candle_core::{DType, Device, Result, Tensor};

#[derive(Debug, Clone)]
pub struct NoiseSchedule {
    pub betas: Vec<f64>,
    pub alphas: Vec<f64>,
    pub alpha_bar: Vec<f64>,
    sqrt_ab: Tensor,
    sqrt_one_minus_ab: Tensor,
}

impl NoiseSchedule {
    /// β linear from `beta_start` to `beta_end` over `steps` steps.
    pub fn linear(steps: usize, beta_start: f64, beta_end: f64, dev: &Device) -> Result<Self> {
        let betas: Vec<f64> = (0..steps).map(|i| beta_start + (beta_end - beta_start) * i as f64 / (steps.max(2) - 1) as f64).collect();
        let alphas: Vec<f64> = betas.iter().map(|b| 1.0 - b).collect();
        let alpha_bar: Vec<f64> = alphas
            .iter()
            .scan(1.0, |acc, a| {
                *acc *= a;
                Some(*acc)
            })
            .collect();
        let sq: Vec<f32> = alpha_bar.iter().map(|a| a.sqrt() as f32).collect();
        let sq1: Vec<f32> = alpha_bar.iter().map(|a| (1.0 - a).sqrt() as f32).collect();
        Ok(Self {
            betas,
            alphas,
            alpha_bar,
            sqrt_ab: Tensor::from_vec(sq, steps, dev)?,
            sqrt_one_minus_ab: Tensor::from_vec(sq1, steps, dev)?,
        })
    }

    /// ViMo's schedule: T = 1000, β 1e-4 → 0.02.
    pub fn seed_default(dev: &Device) -> Result<Self> {
        Self::linear(1000, 1e-4, 0.02, dev)
    }

    pub fn num_steps(&self) -> usize {
        self.betas.len()
    }

    /// SNR_t = ᾱ_t / (1 − ᾱ_t).
    pub fn snr(&self, t: usize) -> f64 {
        self.alpha_bar[t] / (1.0 - self.alpha_bar[t])
    }

    /// Gathers a per-step table at t (\[B\] or \[B, S\] integer) as \[B, 1, 1\] or \[B, S, 1\].
    fn gather(&self, table: &Tensor, t: &Tensor) -> Result<Tensor> {
        let dims = t.dims().to_vec();
        let idx = t.to_dtype(DType::U32)?.flatten_all()?;
        let g = table.index_select(&idx, 0)?;
        match dims.len() {
            1 => g.reshape((dims[0], 1, 1)),
            2 => g.reshape((dims[0], dims[1], 1)),
            r => candle_core::bail!("timesteps must be [B] or [B, S], got rank {r}"),
        }
    }

    /// x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε, x0 \[B, S, D\], t \[B\] (one per clip) or \[B, S\] (per frame).
    pub fn q_sample(&self, x0: &Tensor, t: &Tensor, noise: &Tensor) -> Result<Tensor> {
        let a = self.gather(&self.sqrt_ab, t)?;
        let s = self.gather(&self.sqrt_one_minus_ab, t)?;
        x0.broadcast_mul(&a)? + noise.broadcast_mul(&s)?
    }

    /// x_t at one scalar step for the whole batch.
    pub fn q_sample_at(&self, x0: &Tensor, t: usize, noise: &Tensor) -> Result<Tensor> {
        let ab = self.alpha_bar[t];
        x0.affine(ab.sqrt(), 0.0)? + noise.affine((1.0 - ab).sqrt(), 0.0)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_values() -> Result<()> {
        let s = NoiseSchedule::seed_default(&Device::Cpu)?;
        assert_eq!(s.num_steps(), 1000);
        assert!((s.betas[0] - 1e-4).abs() < 1e-12 && (s.betas[999] - 0.02).abs() < 1e-12);
        assert!((s.alpha_bar[0] - (1.0 - 1e-4)).abs() < 1e-12);
        assert!((s.snr(0) - 9999.0).abs() < 1e-6);
        assert!(s.alpha_bar[999] < 1e-4 && s.alpha_bar.windows(2).all(|w| w[1] < w[0]));
        Ok(())
    }

    #[test]
    fn q_sample_scalar_and_per_frame() -> Result<()> {
        let dev = Device::Cpu;
        let s = NoiseSchedule::seed_default(&dev)?;
        let x0 = Tensor::ones((2, 3, 4), DType::F32, &dev)?;
        let n = Tensor::full(2f32, (2, 3, 4), &dev)?;
        let xt = s.q_sample(&x0, &Tensor::new(&[0u32, 999], &dev)?, &n)?;
        let v = xt.to_vec3::<f32>()?;
        let e = |t: usize| (s.alpha_bar[t].sqrt() + 2.0 * (1.0 - s.alpha_bar[t]).sqrt()) as f32;
        assert!((v[0][2][3] - e(0)).abs() < 1e-5 && (v[1][0][0] - e(999)).abs() < 1e-5);
        // per-frame: frame j of clip i uses its own t
        let t = Tensor::new(&[[0u32, 500, 999], [999, 500, 0]], &dev)?;
        let v = s.q_sample(&x0, &t, &n)?.to_vec3::<f32>()?;
        assert!((v[0][1][0] - e(500)).abs() < 1e-5 && (v[1][2][1] - e(0)).abs() < 1e-5 && (v[1][0][3] - e(999)).abs() < 1e-5);
        let a = s.q_sample_at(&x0, 500, &n)?.to_vec3::<f32>()?;
        assert!((a[1][1][1] - e(500)).abs() < 1e-5);
        Ok(())
    }
}
