//! 2D pose-sequence encoder: COCO-17 (x, y, confidence) per frame → per-frame pose tokens (for
//! cross-attention) and a pooled pose encoding (for FiLM), plus the learned null condition of
//! classifier-free guidance (ViMo §3.2 (i), §3.3
//! (iii)-(iv): "a lightweight temporal transformer"; "missing or low-confidence joints are masked").
//!
//! Masking choice: a joint with confidence < `conf_threshold` has its x, y zeroed and a mask bit
//! 0 fed next to them (features per joint: x·m, y·m, m). This keeps every frame a token (no
//! attention masks, no all-masked rows that softmax would turn into NaN) and lets the network
//! learn what "missing" means. Inputs are expected root-centred/normalised by preprocessing.
use candle_core::{DType, Module, Result, Tensor, D};
use candle_nn::{linear, Linear, VarBuilder};

use super::attention::{Mlp, Norm, SelfAttention};
use super::config::ModelConfig;

/// Pre-LN transformer layer over frames (keys `ln1`, `attn`, `ln2`, `mlp`).
#[derive(Debug, Clone)]
struct EncoderLayer {
    ln1: Norm,
    attn: SelfAttention,
    ln2: Norm,
    mlp: Mlp,
}

impl EncoderLayer {
    fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            ln1: Norm::new(cfg, vb.pp("ln1"))?,
            attn: SelfAttention::new(cfg, vb.pp("attn"))?,
            ln2: Norm::new(cfg, vb.pp("ln2"))?,
            mlp: Mlp::new(cfg, vb.pp("mlp"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = (x + self.attn.forward(&self.ln1.forward(x)?)?)?;
        &x + self.mlp.forward(&self.ln2.forward(&x)?)?
    }
}

/// Encoder output for a batch: pose tokens \[B, S, d\] and pooled encoding \[B, d\].
#[derive(Debug, Clone)]
pub struct PoseEncoding {
    pub tokens: Tensor,
    pub pooled: Tensor,
}

/// Keys: `input`, `pos` \[frames, d\], `layers.{i}`, `ln`, `pool`, `null_tokens` \[frames, d\],
/// `null_pooled` \[d\].
#[derive(Debug, Clone)]
pub struct PoseEncoder {
    input: Linear,
    pos: Tensor,
    layers: Vec<EncoderLayer>,
    ln: Norm,
    pool: Linear,
    null_tokens: Tensor,
    null_pooled: Tensor,
    threshold: f64,
    joints: usize,
}

impl PoseEncoder {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_model;
        let init = candle_nn::Init::Randn { mean: 0.0, stdev: 0.02 };
        let layers = (0..cfg.encoder_layers).map(|i| EncoderLayer::new(cfg, vb.pp(format!("layers.{i}")))).collect::<Result<_>>()?;
        Ok(Self {
            input: linear(cfg.pose_joints * 3, d, vb.pp("input"))?,
            pos: vb.get_with_hints((cfg.frames, d), "pos", init)?,
            layers,
            ln: Norm::new(cfg, vb.pp("ln"))?,
            pool: linear(d, d, vb.pp("pool"))?,
            null_tokens: vb.get_with_hints((cfg.frames, d), "null_tokens", init)?,
            null_pooled: vb.get_with_hints(d, "null_pooled", init)?,
            threshold: cfg.conf_threshold as f64,
            joints: cfg.pose_joints,
        })
    }

    /// Per-joint features (x·m, y·m, m) flattened per frame: \[B, S, J, 3\] → \[B, S, 3J\].
    pub fn joint_features(&self, pose: &Tensor) -> Result<Tensor> {
        let (b, s, j, c) = pose.dims4()?;
        if j != self.joints || c != 3 {
            candle_core::bail!("pose must be [B, S, {}, 3], got {:?}", self.joints, pose.dims());
        }
        let pose = pose.to_dtype(DType::F32)?;
        let m = pose.narrow(D::Minus1, 2, 1)?.ge(self.threshold)?.to_dtype(DType::F32)?;
        let xy = pose.narrow(D::Minus1, 0, 2)?.broadcast_mul(&m)?;
        Tensor::cat(&[xy, m], D::Minus1)?.reshape((b, s, j * 3))
    }

    /// Encodes a pose window \[B, S, J, 3\] (S ≤ frames).
    pub fn encode(&self, pose: &Tensor) -> Result<PoseEncoding> {
        let s = pose.dim(1)?;
        let x = self.input.forward(&self.joint_features(pose)?)?;
        let mut x = x.broadcast_add(&self.pos.narrow(0, 0, s)?)?;
        for l in &self.layers {
            x = l.forward(&x)?;
        }
        let tokens = self.ln.forward(&x)?;
        let pooled = self.pool.forward(&tokens.mean(1)?)?;
        Ok(PoseEncoding { tokens, pooled })
    }

    /// The learned null condition ("∅") for a batch of `b` windows of `s` frames.
    pub fn null(&self, b: usize, s: usize) -> Result<PoseEncoding> {
        let d = self.null_pooled.dim(0)?;
        Ok(PoseEncoding {
            tokens: self.null_tokens.narrow(0, 0, s)?.unsqueeze(0)?.broadcast_as((b, s, d))?.contiguous()?,
            pooled: self.null_pooled.unsqueeze(0)?.broadcast_as((b, d))?.contiguous()?,
        })
    }

    /// Training form of condition dropout: `drop` \[B\] f32, 1 = replace this sample's condition
    /// by the null condition, 0 = keep it (differentiable blend).
    pub fn encode_with_drop(&self, pose: &Tensor, drop: &Tensor) -> Result<PoseEncoding> {
        let (b, s) = (pose.dim(0)?, pose.dim(1)?);
        let enc = self.encode(pose)?;
        let null = self.null(b, s)?;
        let m = drop.to_dtype(DType::F32)?;
        let keep = m.affine(-1.0, 1.0)?;
        let blend = |a: &Tensor, n: &Tensor, shape: &[usize]| -> Result<Tensor> {
            a.broadcast_mul(&keep.reshape(shape)?)? + n.broadcast_mul(&m.reshape(shape)?)?
        };
        Ok(PoseEncoding { tokens: blend(&enc.tokens, &null.tokens, &[b, 1, 1])?, pooled: blend(&enc.pooled, &null.pooled, &[b, 1])? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use candle_nn::VarMap;

    #[test]
    fn shapes_masking_and_null() -> Result<()> {
        let dev = Device::Cpu;
        let cfg = ModelConfig::small();
        let vm = VarMap::new();
        let enc = PoseEncoder::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        let pose = Tensor::rand(0f32, 1., (2, 150, 17, 3), &dev)?;
        let e = enc.encode(&pose)?;
        assert_eq!(e.tokens.dims(), &[2, 150, 128]);
        assert_eq!(e.pooled.dims(), &[2, 128]);
        // a joint below threshold: features (0, 0, 0) whatever its x, y
        let p = Tensor::new(&[[[[5f32, 6., 0.1], [5., 6., 0.9]]]], &dev)?;
        let mut c1 = cfg.clone();
        c1.pose_joints = 2;
        let e1 = PoseEncoder::new(&c1, VarBuilder::from_varmap(&VarMap::new(), DType::F32, &dev))?;
        assert_eq!(e1.joint_features(&p)?.flatten_all()?.to_vec1::<f32>()?, vec![0., 0., 0., 5., 6., 1.]);
        // drop mask: sample 0 kept, sample 1 null
        let d = enc.encode_with_drop(&pose, &Tensor::new(&[0f32, 1.], &dev)?)?;
        let n = enc.null(2, 150)?;
        let diff = |a: &Tensor, b: &Tensor| -> Result<f32> { (a - b)?.abs()?.max_all()?.to_scalar::<f32>() };
        assert!(diff(&d.tokens.get(0)?, &e.tokens.get(0)?)? < 1e-6);
        assert!(diff(&d.tokens.get(1)?, &n.tokens.get(1)?)? < 1e-6);
        assert!(diff(&d.pooled.get(1)?, &n.pooled.get(1)?)? < 1e-6);
        Ok(())
    }
}
