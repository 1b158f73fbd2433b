//! [`ModelX0`]: the candle [`Denoiser`] bound to one pose window, as an [`X0Model`]. The pose
//! window is encoded once (encoder, cross-attention K/V, FiLM pose part for both the condition
//! and ∅); guided steps run one forward of batch 2B (ViMo
//! §3.3 (iv)). The encoding always runs in
//! candle; the per-step forward runs in candle or, after [`ModelX0::on_onnx`], on ONNX Runtime
//! ([`crate::model::onnx`]).
use candle_core::{Result, Tensor};

use super::X0Model;
use crate::model::onnx::OnnxDenoiser;
use crate::model::{Denoiser, PoseCondition};

pub struct ModelX0<'a> {
    model: &'a Denoiser,
    /// The forward's engine when not candle.
    onnx: Option<&'a OnnxDenoiser>,
    cond: PoseCondition,
    /// [cond; null], batch 2B, and the null half; only when built for guidance.
    guided: Option<(PoseCondition, PoseCondition)>,
}

impl<'a> ModelX0<'a> {
    /// Unguided (w = 0): encodes `pose` [B, S, 17, 3] once for the whole reverse process.
    pub fn new(model: &'a Denoiser, pose: &Tensor) -> Result<Self> {
        Ok(Self { model, onnx: None, cond: model.encode(pose, false)?, guided: None })
    }

    /// For classifier-free guidance: encodes the condition and ∅ once, as one batch of 2B.
    pub fn guided(model: &'a Denoiser, pose: &Tensor) -> Result<Self> {
        let pair = model.encode_guided(pose)?;
        let b = pose.dim(0)?;
        let (cond, null) = (pair.narrow(0, b)?, pair.narrow(b, b)?);
        Ok(Self { model, onnx: None, cond, guided: Some((pair, null)) })
    }

    /// Runs the per-step forward on `onnx` (exported from the same `model`) instead of candle.
    pub fn on_onnx(self, onnx: &'a OnnxDenoiser) -> Self {
        Self { onnx: Some(onnx), ..self }
    }

    pub fn condition(&self) -> &PoseCondition {
        &self.cond
    }

    fn forward(&self, x_t: &Tensor, t: &Tensor, cond: &PoseCondition) -> Result<Tensor> {
        match self.onnx {
            Some(o) => o.forward(x_t, t, cond).map_err(candle_core::Error::wrap),
            None => self.model.forward(x_t, t, cond),
        }
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
        self.forward(x_t, t, &self.cond)
    }

    fn predict_uncond(&self, x_t: &Tensor, t: &Tensor) -> Result<Tensor> {
        match &self.guided {
            Some((_, null)) => self.forward(x_t, t, null),
            None => {
                let (b, s) = (x_t.dim(0)?, x_t.dim(1)?);
                let null = self.model.condition(self.model.encoder().null(b, s)?)?;
                self.forward(x_t, t, &null)
            }
        }
    }

    /// One forward of batch 2B when built with [`ModelX0::guided`], two passes otherwise.
    fn predict_pair(&self, x_t: &Tensor, t: &Tensor) -> Result<(Tensor, Tensor)> {
        let Some((pair, _)) = &self.guided else {
            return Ok((self.predict(x_t, t)?, self.predict_uncond(x_t, t)?));
        };
        let b = x_t.dim(0)?;
        let y = self.forward(&Tensor::cat(&[x_t, x_t], 0)?, &twice(t)?, pair)?;
        Ok((y.narrow(0, 0, b)?, y.narrow(0, b, b)?))
    }
}
