//! Per-frame (vectorised) diffusion-timestep embedding: sinusoid + MLP (ViMo
//! §2.3 / §3.3 (iv), FVDM vectorised timesteps).
//! Input t is \[B, S\] (one timestep per frame); scalar \[\] or per-sample \[B\] timesteps are
//! broadcast to \[B, S\] by [`per_frame_t`].
use candle_core::{DType, Module, Result, Tensor, D};
use candle_nn::{linear, Linear, VarBuilder};

use super::config::ModelConfig;

/// Broadcasts t (\[\], \[B\] or \[B, S\], any dtype) to f32 \[B, S\].
pub fn per_frame_t(t: &Tensor, b: usize, s: usize) -> Result<Tensor> {
    let t = t.to_dtype(DType::F32)?;
    match t.rank() {
        0 => t.reshape((1, 1))?.broadcast_as((b, s))?.contiguous(),
        1 => t.reshape((b, 1))?.broadcast_as((b, s))?.contiguous(),
        2 => {
            if t.dims() != [b, s] {
                candle_core::bail!("timesteps {:?} do not match batch [{b}, {s}]", t.dims());
            }
            Ok(t)
        }
        r => candle_core::bail!("timesteps must have rank 0, 1 or 2, got {r}"),
    }
}

/// Sinusoidal embedding (sin | cos halves) followed by Linear-SiLU-Linear (keys `fc1`, `fc2`).
#[derive(Debug, Clone)]
pub struct TimestepEmbedding {
    pub(crate) freqs: Tensor,
    pub(crate) fc1: Linear,
    pub(crate) fc2: Linear,
}

impl TimestepEmbedding {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_model;
        let half = d / 2;
        let f: Vec<f32> = (0..half).map(|i| (-(10000f64.ln()) * i as f64 / half as f64).exp() as f32).collect();
        let freqs = Tensor::from_vec(f, half, vb.device())?;
        Ok(Self { freqs, fc1: linear(d, d, vb.pp("fc1"))?, fc2: linear(d, d, vb.pp("fc2"))? })
    }

    /// Raw sinusoid of f32 t \[B, S\] → \[B, S, d\].
    pub fn sinusoid(&self, t: &Tensor) -> Result<Tensor> {
        let args = t.unsqueeze(D::Minus1)?.broadcast_mul(&self.freqs)?;
        Tensor::cat(&[args.sin()?, args.cos()?], D::Minus1)
    }

    /// t (\[\], \[B\] or \[B, S\]) → per-frame embedding \[B, S, d\].
    pub fn forward(&self, t: &Tensor, b: usize, s: usize) -> Result<Tensor> {
        self.embed(t, b, s)?.broadcast_as((b, s, self.fc2.weight().dim(0)?))?.contiguous()
    }

    /// Like [`Self::forward`] but a per-clip t (\[\] or \[B\]) gives \[B, 1, d\] (the same embedding
    /// for every frame, computed once; callers broadcast), a per-frame t \[B, S\] gives \[B, S, d\].
    pub fn embed(&self, t: &Tensor, b: usize, s: usize) -> Result<Tensor> {
        let t = if t.rank() <= 1 { per_frame_t(t, b, 1)? } else { per_frame_t(t, b, s)? };
        let h = self.fc1.forward(&self.sinusoid(&t)?)?.silu()?;
        self.fc2.forward(&h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use candle_nn::VarMap;

    #[test]
    fn shapes_and_broadcast() -> Result<()> {
        let dev = Device::Cpu;
        let cfg = ModelConfig::small();
        let vm = VarMap::new();
        let te = TimestepEmbedding::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        let scalar = te.forward(&Tensor::new(500u32, &dev)?, 2, 150)?;
        assert_eq!(scalar.dims(), &[2, 150, 128]);
        let per_b = te.forward(&Tensor::new(&[500i64, 500], &dev)?, 2, 150)?;
        let full = te.forward(&Tensor::full(500f32, (2, 150), &dev)?, 2, 150)?;
        assert!((scalar - &full)?.abs()?.max_all()?.to_scalar::<f32>()? < 1e-5);
        assert!((per_b - &full)?.abs()?.max_all()?.to_scalar::<f32>()? < 1e-5);
        // sinusoid at t=0: sin half 0, cos half 1; frames with different t differ
        let z = te.sinusoid(&Tensor::zeros((1, 1), DType::F32, &dev)?)?.flatten_all()?.to_vec1::<f32>()?;
        assert!(z[..64].iter().all(|v| *v == 0.0) && z[64..].iter().all(|v| *v == 1.0));
        let t = Tensor::new(&[[0f32, 999.]], &dev)?;
        let e = te.forward(&t, 1, 2)?;
        let diff = (e.get(0)?.get(0)? - e.get(0)?.get(1)?)?.abs()?.sum_all()?.to_scalar::<f32>()?;
        assert!(diff > 1e-3);
        assert!(per_frame_t(&Tensor::zeros((2, 3), DType::F32, &dev)?, 2, 4).is_err());
        Ok(())
    }
}
