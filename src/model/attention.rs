//! Attention, MLP and LayerNorm building blocks of the ViMo denoiser and pose encoder (ViMo
//! §3.3 (ii)). Inference-lean: fused QKV, fused
//! softmax/layer-norm kernels when no gradient is tracked, cross-attention K/V precomputed per
//! window ([`CrossKv`]). candle's fused `softmax_last_dim`/`layer_norm` have no backward pass, so
//! tensors that track gradients (training) take the composed, differentiable path instead.
use candle_core::{Module, Result, Tensor, D};
use candle_nn::{layer_norm, linear, LayerNorm, Linear, VarBuilder};

use super::config::{Activation, ModelConfig};

/// softmax(scale · x) over the last dim: at inference a fused f32 kernel with a vectorisable
/// exp ([`FastSoftmax`]; candle's own kernel calls libm `expf` per element, ~25 % of a
/// forward), in training differentiable ops.
pub fn softmax_last(x: &Tensor, scale: f64) -> Result<Tensor> {
    if x.track_op() {
        candle_nn::ops::softmax(&x.affine(scale, 0.0)?, D::Minus1)
    } else if x.dtype() == candle_core::DType::F32 {
        x.contiguous()?.apply_op1_no_bwd(&FastSoftmax { scale: scale as f32 })
    } else {
        candle_nn::ops::softmax_last_dim(&x.affine(scale, 0.0)?)
    }
}

/// e^x for x ≤ 0 (relative error ~2e-7): 2^n · p(r), n = round(x·log2 e), |r| ≤ ln2/2,
/// branch-free so that LLVM vectorises the loops that call it.
#[inline(always)]
fn exp_neg(x: f32) -> f32 {
    const SHIFT: f32 = 12_582_912.0; // 1.5·2^23: adding and subtracting rounds to nearest
    let x = if x < -87.0 { -87.0 } else { x };
    let n = (x * std::f32::consts::LOG2_E + SHIFT) - SHIFT;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // A saturating cast: a NaN input (never expected) gives a NaN result, not undefined behaviour.
    let n = n as i32;
    p * f32::from_bits(((n + 127) << 23) as u32)
}

/// Max of a row with 8 independent lanes (vectorisable, unlike a sequential fold).
fn row_max(s: &[f32]) -> f32 {
    let mut m = [f32::NEG_INFINITY; 8];
    let mut it = s.chunks_exact(8);
    for c in &mut it {
        for (a, v) in m.iter_mut().zip(c) {
            *a = if *v > *a { *v } else { *a };
        }
    }
    it.remainder().iter().chain(m.iter()).fold(f32::NEG_INFINITY, |a, v| if *v > a { *v } else { a })
}

/// Sum of a row with 8 independent lanes.
fn row_sum(s: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut it = s.chunks_exact(8);
    for c in &mut it {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += *v;
        }
    }
    it.remainder().iter().sum::<f32>() + acc.iter().sum::<f32>()
}

#[inline(always)]
fn softmax_rows(src: &[f32], dst: &mut [f32], n: usize, scale: f32) {
    for (s, d) in src.chunks_exact(n).zip(dst.chunks_exact_mut(n)) {
        let max = row_max(s);
        for (y, x) in d.iter_mut().zip(s) {
            *y = exp_neg((x - max) * scale);
        }
        let inv = 1.0 / row_sum(d);
        d.iter_mut().for_each(|v| *v *= inv);
    }
}

/// The same loops compiled for AVX2 + FMA (8 lanes instead of SSE2's 4).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_rows_avx2(src: &[f32], dst: &mut [f32], n: usize, scale: f32) {
    softmax_rows(src, dst, n, scale)
}

/// Inference-only fused softmax(scale · x) over the last dim of a contiguous f32 tensor.
pub struct FastSoftmax {
    pub scale: f32,
}

impl candle_core::CustomOp1 for FastSoftmax {
    fn name(&self) -> &'static str {
        "mocapd-fast-softmax"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let candle_core::CpuStorage::F32(src) = storage else { candle_core::bail!("FastSoftmax: f32 only") };
        let Some((o1, o2)) = layout.contiguous_offsets() else { candle_core::bail!("FastSoftmax: input must be contiguous") };
        let src = &src[o1..o2];
        let n = *layout.shape().dims().last().unwrap_or(&1);
        let mut dst = vec![0f32; src.len()];
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features `softmax_rows_avx2` is compiled for.
            unsafe { softmax_rows_avx2(src, &mut dst, n, self.scale) };
            return Ok((candle_core::CpuStorage::F32(dst), layout.shape().clone()));
        }
        softmax_rows(src, &mut dst, n, self.scale);
        Ok((candle_core::CpuStorage::F32(dst), layout.shape().clone()))
    }
}

/// LayerNorm with weight/bias (`weight`, `bias` keys), fused only when no gradient is tracked.
#[derive(Debug, Clone)]
pub struct Norm {
    pub(crate) ln: LayerNorm,
    pub(crate) eps: f64,
}

impl Norm {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        Ok(Self { ln: layer_norm(cfg.d_model, cfg.layer_norm_eps, vb)?, eps: cfg.layer_norm_eps })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.track_op() || self.ln.weight().track_op() {
            let b = self.ln.bias().expect("layer_norm has a bias");
            candle_nn::ops::layer_norm_slow(x, self.ln.weight(), b, self.eps as f32)
        } else {
            self.ln.forward(&x.contiguous()?)
        }
    }
}

/// [B, S, n·d] → n tensors [B, H, S, dh] (one copy).
fn split_heads(x: &Tensor, n: usize, h: usize) -> Result<Vec<Tensor>> {
    let (b, s, nd) = x.dims3()?;
    let dh = nd / n / h;
    let x = x.reshape((b, s, n, h, dh))?.permute((2, 0, 3, 1, 4))?.contiguous()?;
    (0..n).map(|i| x.get(i)).collect()
}

/// [B, H, S, dh] → [B, S, H·dh].
fn merge_heads(x: &Tensor) -> Result<Tensor> {
    let (b, h, s, dh) = x.dims4()?;
    x.transpose(1, 2)?.reshape((b, s, h * dh))
}

/// softmax(q kᵀ / √dh) v with `k_t` already transposed ([B, H, dh, Sk]).
fn attend(q: &Tensor, k_t: &Tensor, v: &Tensor) -> Result<Tensor> {
    let dh = q.dim(D::Minus1)?;
    let w = softmax_last(&q.matmul(k_t)?, 1.0 / (dh as f64).sqrt())?;
    w.matmul(v)
}

/// Multi-head self-attention with a fused QKV projection (keys `qkv`, `out`).
#[derive(Debug, Clone)]
pub struct SelfAttention {
    pub(crate) qkv: Linear,
    pub(crate) out: Linear,
    pub(crate) heads: usize,
}

impl SelfAttention {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_model;
        Ok(Self { qkv: linear(d, 3 * d, vb.pp("qkv"))?, out: linear(d, d, vb.pp("out"))?, heads: cfg.n_heads })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let qkv = split_heads(&self.qkv.forward(x)?, 3, self.heads)?;
        let k_t = qkv[1].transpose(2, 3)?;
        let y = attend(&qkv[0], &k_t, &qkv[2])?;
        self.out.forward(&merge_heads(&y)?)
    }
}

/// Cross-attention keys/values of one block, projected once per window.
#[derive(Debug, Clone)]
pub struct CrossKv {
    /// Keys, transposed and contiguous: [B, H, dh, S_pose].
    pub k_t: Tensor,
    /// Values: [B, H, S_pose, dh].
    pub v: Tensor,
}

impl CrossKv {
    pub fn cat(parts: &[&CrossKv]) -> Result<Self> {
        let k: Vec<&Tensor> = parts.iter().map(|p| &p.k_t).collect();
        let v: Vec<&Tensor> = parts.iter().map(|p| &p.v).collect();
        Ok(Self { k_t: Tensor::cat(&k, 0)?, v: Tensor::cat(&v, 0)? })
    }

    pub fn narrow(&self, start: usize, len: usize) -> Result<Self> {
        Ok(Self { k_t: self.k_t.narrow(0, start, len)?, v: self.v.narrow(0, start, len)? })
    }
}

/// Multi-head cross-attention from motion frames to pose tokens (keys `q`, `kv`, `out`).
#[derive(Debug, Clone)]
pub struct CrossAttention {
    pub(crate) q: Linear,
    pub(crate) kv: Linear,
    pub(crate) out: Linear,
    pub(crate) heads: usize,
}

impl CrossAttention {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_model;
        Ok(Self { q: linear(d, d, vb.pp("q"))?, kv: linear(d, 2 * d, vb.pp("kv"))?, out: linear(d, d, vb.pp("out"))?, heads: cfg.n_heads })
    }

    /// Projects pose tokens [B, Sp, d] to this layer's keys and values (once per window).
    pub fn project_kv(&self, tokens: &Tensor) -> Result<CrossKv> {
        let kv = split_heads(&self.kv.forward(tokens)?, 2, self.heads)?;
        Ok(CrossKv { k_t: kv[0].transpose(2, 3)?.contiguous()?, v: kv[1].clone() })
    }

    pub fn forward(&self, x: &Tensor, kv: &CrossKv) -> Result<Tensor> {
        let q = split_heads(&self.q.forward(x)?, 1, self.heads)?.remove(0);
        let y = attend(&q, &kv.k_t, &kv.v)?;
        self.out.forward(&merge_heads(&y)?)
    }
}

/// Two-layer MLP d → ratio·d → d (keys `fc1`, `fc2`).
#[derive(Debug, Clone)]
pub struct Mlp {
    pub(crate) fc1: Linear,
    pub(crate) fc2: Linear,
    pub(crate) act: Activation,
}

impl Mlp {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let (d, h) = (cfg.d_model, cfg.d_model * cfg.mlp_ratio);
        Ok(Self { fc1: linear(d, h, vb.pp("fc1"))?, fc2: linear(h, d, vb.pp("fc2"))?, act: cfg.activation })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.fc1.forward(x)?;
        let h = match self.act {
            Activation::Relu => h.relu()?,
            Activation::Silu => h.silu()?,
            Activation::Gelu => h.gelu()?,
        };
        self.fc2.forward(&h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    #[test]
    fn attention_shapes_and_fused_paths_agree() -> Result<()> {
        let dev = Device::Cpu;
        let cfg = ModelConfig::tiny(16);
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
        let sa = SelfAttention::new(&cfg, vb.pp("sa"))?;
        let ca = CrossAttention::new(&cfg, vb.pp("ca"))?;
        let x = Tensor::randn(0f32, 1., (2, 16, 32), &dev)?;
        let p = Tensor::randn(0f32, 1., (2, 10, 32), &dev)?;
        assert_eq!(sa.forward(&x)?.dims(), &[2, 16, 32]);
        let kv = ca.project_kv(&p)?;
        assert_eq!(kv.k_t.dims(), &[2, 2, 16, 10]);
        assert_eq!(ca.forward(&x, &kv)?.dims(), &[2, 16, 32]);
        // fast fused softmax (inference) agrees with candle's, incl. scale and odd row lengths
        for (shape, std) in [((2usize, 3usize, 7usize), 3.0f32), ((1, 4, 150), 20.0), ((3, 2, 1), 1.0)] {
            let s = Tensor::randn(0f32, std, shape, &dev)?;
            let a = softmax_last(&s, 0.25)?;
            let b = candle_nn::ops::softmax(&s.affine(0.25, 0.0)?, D::Minus1)?;
            assert!((a - b)?.abs()?.max_all()?.to_scalar::<f32>()? < 1e-6);
        }
        for x in [0f32, -1e-3, -0.3, -1.0, -5.5, -20.0, -80.0] {
            assert!((exp_neg(x) - x.exp()).abs() <= 3e-7 * x.exp(), "{x}");
        }
        assert!(exp_neg(-1e4) >= 0.0 && exp_neg(-1e4) < 1e-37);
        Ok(())
    }
}
