//! One denoiser block: self-attention over motion frames, cross-attention to pose tokens, MLP,
//! each output FiLM-modulated (ViMo §3.3 (ii)-(iii)).
//!
//! FiLM: y = x + (1 + γ) ⊙ f(LN(x)) + β for each sub-layer f, with (γ, β) = Linear(c),
//! c = SiLU([embed(t), encode(p)]). V1 has one (γ, β) for the three sub-layers, V2 three.
//! ViMo broadcasts one modulation over all frames; with vectorised timesteps the t-part of
//! c is per frame, so c (and γ, β) are per frame [B, S, ·]. The linear on the concatenation is
//! stored as two linears, `film_t` (on embed(t), with bias) + `film_p` (on encode(p), no bias):
//! the same function, but the pose part is computed once per window ([`BlockCond`]).
use candle_core::{Module, Result, Tensor};
use candle_nn::{linear, linear_no_bias, Linear, VarBuilder};

use super::attention::{CrossAttention, CrossKv, Mlp, Norm, SelfAttention};
use super::config::{FilmVariant, ModelConfig};

/// Per-window, per-block cache: cross-attention K/V and the pose part of FiLM.
#[derive(Debug, Clone)]
pub struct BlockCond {
    pub kv: CrossKv,
    /// film_p(SiLU(pooled)): [B, 1, k·2d].
    pub film_p: Tensor,
}

impl BlockCond {
    pub fn cat(parts: &[&BlockCond]) -> Result<Self> {
        let kv: Vec<&CrossKv> = parts.iter().map(|p| &p.kv).collect();
        let f: Vec<&Tensor> = parts.iter().map(|p| &p.film_p).collect();
        Ok(Self { kv: CrossKv::cat(&kv)?, film_p: Tensor::cat(&f, 0)? })
    }

    pub fn narrow(&self, start: usize, len: usize) -> Result<Self> {
        Ok(Self { kv: self.kv.narrow(start, len)?, film_p: self.film_p.narrow(0, start, len)? })
    }
}

/// Keys: `ln1`, `self_attn`, `ln2`, `cross_attn`, `ln3`, `mlp`, `film_t`, `film_p`.
#[derive(Debug, Clone)]
pub struct Block {
    pub(crate) ln1: Norm,
    pub(crate) self_attn: SelfAttention,
    pub(crate) ln2: Norm,
    pub(crate) cross_attn: CrossAttention,
    pub(crate) ln3: Norm,
    pub(crate) mlp: Mlp,
    pub(crate) film_t: Linear,
    pub(crate) film_p: Linear,
    /// Number of (γ, β) pairs: 1 (V1) or 3 (V2).
    pub(crate) pairs: usize,
    pub(crate) d: usize,
}

impl Block {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_model;
        let pairs = match cfg.film {
            FilmVariant::V1 => 1,
            FilmVariant::V2 => 3,
        };
        Ok(Self {
            ln1: Norm::new(cfg, vb.pp("ln1"))?,
            self_attn: SelfAttention::new(cfg, vb.pp("self_attn"))?,
            ln2: Norm::new(cfg, vb.pp("ln2"))?,
            cross_attn: CrossAttention::new(cfg, vb.pp("cross_attn"))?,
            ln3: Norm::new(cfg, vb.pp("ln3"))?,
            mlp: Mlp::new(cfg, vb.pp("mlp"))?,
            film_t: linear(d, 2 * pairs * d, vb.pp("film_t"))?,
            film_p: linear_no_bias(d, 2 * pairs * d, vb.pp("film_p"))?,
            pairs,
            d,
        })
    }

    /// Per-window cache from pose tokens [B, Sp, d] and SiLU(pooled) [B, d].
    pub fn condition(&self, tokens: &Tensor, pooled_act: &Tensor) -> Result<BlockCond> {
        Ok(BlockCond { kv: self.cross_attn.project_kv(tokens)?, film_p: self.film_p.forward(pooled_act)?.unsqueeze(1)? })
    }

    /// x [B, S, d], t_act = SiLU(embed(t)) [B, S, d] (per frame) or [B, 1, d] (per clip: FiLM
    /// is computed once per clip and broadcast over frames).
    pub fn forward(&self, x: &Tensor, t_act: &Tensor, cond: &BlockCond) -> Result<Tensor> {
        let (b, _, d) = x.dims3()?;
        let st = t_act.dim(1)?;
        let f = self.film_t.forward(t_act)?.broadcast_add(&cond.film_p)?;
        // [B, St, 2·pairs·d] → [2·pairs, B, St, d], contiguous chunks; γ stored as 1 + γ.
        let f = f.reshape((b, st, 2 * self.pairs, d))?.permute((2, 0, 1, 3))?.contiguous()?;
        let film = |i: usize| -> Result<(Tensor, Tensor)> {
            let i = i.min(self.pairs - 1);
            Ok((f.get(2 * i)?.affine(1.0, 1.0)?, f.get(2 * i + 1)?))
        };
        let modulate = |x: &Tensor, y: Tensor, (g, bt): &(Tensor, Tensor)| -> Result<Tensor> { x + y.broadcast_mul(g)?.broadcast_add(bt)? };
        debug_assert_eq!(d, self.d);
        let f0 = film(0)?;
        let x = modulate(x, self.self_attn.forward(&self.ln1.forward(x)?)?, &f0)?;
        let f1 = if self.pairs == 1 { f0.clone() } else { film(1)? };
        let x = modulate(&x, self.cross_attn.forward(&self.ln2.forward(&x)?, &cond.kv)?, &f1)?;
        let f2 = if self.pairs == 1 { f0 } else { film(2)? };
        modulate(&x, self.mlp.forward(&self.ln3.forward(&x)?)?, &f2)
    }
}
