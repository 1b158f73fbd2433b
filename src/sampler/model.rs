//! [`ModelX0`]: the candle [`Denoiser`] bound to one pose window, as an [`X0Model`]. The pose
//! window is encoded once (encoder, cross-attention K/V, FiLM pose part for both the condition
//! and ∅); guided steps run one forward of batch 2B (seed
//! `/work/shared/seeds/000_2089a3e28466b77a.txt` §3.3 (iv)).
use candle_core::{Result, Tensor};

use super::X0Model;
use crate::model::{Denoiser, PoseCondition};

pub struct ModelX0<'a> {
    model: &'a Denoiser,
    /// [cond; null], batch 2B.
    pair: PoseCondition,
    cond: PoseCondition,
    null: PoseCondition,
}

impl<'a> ModelX0<'a> {
    /// Encodes `pose` [B, S, 17, 3] once for the whole reverse process.
    pub fn new(model: &'a Denoiser, pose: &Tensor) -> Result<Self> {
        let pair = model.encode_guided(pose)?;
        let b = pose.dim(0)?;
        Ok(Self { model, cond: pair.narrow(0, b)?, null: pair.narrow(b, b)?, pair })
    }

    pub fn condition(&self) -> &PoseCondition {
        &self.cond
    }
}

fn twice(t: &Tensor) -> Result<Tensor> {
    if t.rank() == 0 {
        Ok(t.clone())
    } else {
        Tensor::cat(&[t, t], 0)
    }
}

impl X0Model for ModelX0<'_> {
    fn predict(&self, x_t: &Tensor, t: &Tensor) -> Result<Tensor> {
        self.model.forward(x_t, t, &self.cond)
    }

    fn predict_uncond(&self, x_t: &Tensor, t: &Tensor) -> Result<Tensor> {
        self.model.forward(x_t, t, &self.null)
    }

    fn predict_pair(&self, x_t: &Tensor, t: &Tensor) -> Result<(Tensor, Tensor)> {
        let b = x_t.dim(0)?;
        let y = self.model.forward(&Tensor::cat(&[x_t, x_t], 0)?, &twice(t)?, &self.pair)?;
        Ok((y.narrow(0, 0, b)?, y.narrow(0, b, b)?))
    }
}
