//! The ViMo denoiser D(x_t, t, p) → x̂0 (ViMo
//! §3.3): input projection 151→d + learned positional embedding, N FiLM blocks, LN, output
//! linear d→151. The pose condition is encoded once per window into a [`PoseCondition`]
//! (pose tokens, pooled encoding, per-block cross-attention K/V and FiLM pose part), so a
//! K-step sampler runs the encoder and the K/V projections once.
//!
//! Frame-aligned conditioning (`ModelConfig::frame_cond`): each motion frame also receives its own
//! frame's pose token through a linear `frame` added at the input, so nothing but position
//! embeddings has to pair pose frame i with motion frame i.
//!
//! Checkpoint keys: `encoder.*`, `time.*`, `input`, `pos` \[frames, d\], `frame` (with
//! `frame_cond`), `blocks.{i}.*`, `final_ln`, `output`.
use candle_core::{Module, Result, Tensor};
use candle_nn::{linear, Linear, VarBuilder};

use super::attention::Norm;
use super::block::{Block, BlockCond};
use super::config::ModelConfig;
use super::encoder::{PoseEncoder, PoseEncoding};
use super::timestep::TimestepEmbedding;

/// Everything the denoiser needs from the pose window, computed once per window.
#[derive(Debug, Clone)]
pub struct PoseCondition {
    /// Pose tokens \[B, S, d\].
    pub tokens: Tensor,
    /// Pooled pose encoding \[B, d\].
    pub pooled: Tensor,
    /// Per-block cross-attention K/V and FiLM pose part.
    pub blocks: Vec<BlockCond>,
    /// `frame(tokens)` \[B, S, d\], added to motion frame i at the input (with `frame_cond`).
    pub frame: Option<Tensor>,
}

impl PoseCondition {
    pub fn batch(&self) -> usize {
        self.pooled.dims()[0]
    }

    /// Concatenates conditions along the batch (e.g. \[cond; null\] for guidance).
    pub fn cat(parts: &[&PoseCondition]) -> Result<Self> {
        let tk: Vec<&Tensor> = parts.iter().map(|p| &p.tokens).collect();
        let pl: Vec<&Tensor> = parts.iter().map(|p| &p.pooled).collect();
        let blocks = (0..parts[0].blocks.len())
            .map(|i| BlockCond::cat(&parts.iter().map(|p| &p.blocks[i]).collect::<Vec<_>>()))
            .collect::<Result<_>>()?;
        let frame = match parts[0].frame {
            Some(_) => Some(Tensor::cat(
                &parts
                    .iter()
                    .map(|p| p.frame.as_ref())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| candle_core::Error::msg("mixed frame conditions"))?,
                0,
            )?),
            None => None,
        };
        Ok(Self { tokens: Tensor::cat(&tk, 0)?, pooled: Tensor::cat(&pl, 0)?, blocks, frame })
    }

    /// Batch rows [start, start + len).
    pub fn narrow(&self, start: usize, len: usize) -> Result<Self> {
        Ok(Self {
            tokens: self.tokens.narrow(0, start, len)?,
            pooled: self.pooled.narrow(0, start, len)?,
            blocks: self.blocks.iter().map(|b| b.narrow(start, len)).collect::<Result<_>>()?,
            frame: self.frame.as_ref().map(|f| f.narrow(0, start, len)).transpose()?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Denoiser {
    pub(crate) cfg: ModelConfig,
    pub(crate) encoder: PoseEncoder,
    pub(crate) time: TimestepEmbedding,
    pub(crate) input: Linear,
    pub(crate) pos: Tensor,
    pub(crate) frame: Option<Linear>,
    pub(crate) blocks: Vec<Block>,
    pub(crate) final_ln: Norm,
    pub(crate) output: Linear,
}

impl Denoiser {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        cfg.validate().map_err(candle_core::Error::msg)?;
        let d = cfg.d_model;
        let init = candle_nn::Init::Randn { mean: 0.0, stdev: 0.02 };
        let blocks = (0..cfg.n_blocks).map(|i| Block::new(cfg, vb.pp(format!("blocks.{i}")))).collect::<Result<_>>()?;
        Ok(Self {
            cfg: cfg.clone(),
            encoder: PoseEncoder::new(cfg, vb.pp("encoder"))?,
            time: TimestepEmbedding::new(cfg, vb.pp("time"))?,
            input: linear(cfg.motion_dim, d, vb.pp("input"))?,
            pos: vb.get_with_hints((cfg.frames, d), "pos", init)?,
            frame: if cfg.frame_cond { Some(linear(d, d, vb.pp("frame"))?) } else { None },
            blocks,
            final_ln: Norm::new(cfg, vb.pp("final_ln"))?,
            output: linear(d, cfg.motion_dim, vb.pp("output"))?,
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    pub fn encoder(&self) -> &PoseEncoder {
        &self.encoder
    }

    /// Builds the per-window cache from an encoder output.
    pub fn condition(&self, enc: PoseEncoding) -> Result<PoseCondition> {
        let pooled_act = enc.pooled.silu()?;
        let blocks = self.blocks.iter().map(|b| b.condition(&enc.tokens, &pooled_act)).collect::<Result<_>>()?;
        let frame = self.frame.as_ref().map(|f| f.forward(&enc.tokens)).transpose()?;
        Ok(PoseCondition { tokens: enc.tokens, pooled: enc.pooled, blocks, frame })
    }

    /// Encodes a pose window \[B, S, 17, 3\]; `drop` = true gives the null condition ∅.
    pub fn encode(&self, pose: &Tensor, drop: bool) -> Result<PoseCondition> {
        let enc = if drop { self.encoder.null(pose.dim(0)?, pose.dim(1)?)? } else { self.encoder.encode(pose)? };
        self.condition(enc)
    }

    /// Training: per-sample condition dropout, `drop` \[B\] f32 (1 = null condition).
    pub fn encode_with_drop(&self, pose: &Tensor, drop: &Tensor) -> Result<PoseCondition> {
        self.condition(self.encoder.encode_with_drop(pose, drop)?)
    }

    /// Guidance batch of 2B: rows [0, B) conditional, rows [B, 2B) null.
    pub fn encode_guided(&self, pose: &Tensor) -> Result<PoseCondition> {
        PoseCondition::cat(&[&self.encode(pose, false)?, &self.encode(pose, true)?])
    }

    /// x̂0 = D(x_t, t, p): x_t \[B, S, motion_dim\], t \[\], \[B\] or \[B, S\] (any dtype), S ≤ frames.
    /// A per-clip t (\[\] or \[B\]) is the same as that t broadcast to \[B, S\], but cheaper (the
    /// timestep MLP and the FiLM t-part run once per clip instead of once per frame).
    pub fn forward(&self, x_t: &Tensor, t: &Tensor, cond: &PoseCondition) -> Result<Tensor> {
        let (b, s, m) = x_t.dims3()?;
        if m != self.cfg.motion_dim || s > self.cfg.frames || b != cond.batch() {
            candle_core::bail!(
                "x_t {:?} does not fit motion_dim {}, frames {} and condition batch {}",
                x_t.dims(),
                self.cfg.motion_dim,
                self.cfg.frames,
                cond.batch()
            );
        }
        let t_act = self.time.embed(t, b, s)?.silu()?;
        let mut h = self.input.forward(x_t)?.broadcast_add(&self.pos.narrow(0, 0, s)?)?;
        if self.frame.is_some() {
            let Some(frame) = &cond.frame else {
                candle_core::bail!("this model conditions each frame, but the condition has no frame tokens")
            };
            if frame.dim(1)? < s {
                candle_core::bail!("x_t has {s} frames but the pose window only {}", frame.dim(1)?);
            }
            h = (h + frame.narrow(1, 0, s)?)?;
        }
        for (blk, bc) in self.blocks.iter().zip(&cond.blocks) {
            h = blk.forward(&h, &t_act, bc)?;
        }
        self.output.forward(&self.final_ln.forward(&h)?)
    }
}
