//! `ModelConfig`: hyper-parameters of the ViMo-style denoiser (ViMo
//! §3.3 (ii)-(iv) and §VI: small d=128/4 heads,
//! big d=256/8 heads, 3 blocks, FiLM v1/v2, condition dropout 0.25, S=150, motion 151).
use serde::{Deserialize, Serialize};

/// FiLM strategy of a block (ViMo §3.3 (ii)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilmVariant {
    /// One γ/β pair shared by the self-attention, cross-attention and MLP outputs.
    V1,
    /// Three γ/β pairs, one per modulation point.
    V2,
}

/// MLP activation. `Relu` is the default: at d=128 on CPU candle's element-wise ops dominate
/// (erf-GELU ≈ 1 ms per call; it alone doubled the update, README "Benchmarks"); relu is the cheapest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    Relu,
    Silu,
    /// tanh-approximated GELU.
    Gelu,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Model width d.
    pub d_model: usize,
    pub n_heads: usize,
    /// Denoiser blocks (self-attn, cross-attn, MLP).
    pub n_blocks: usize,
    pub film: FilmVariant,
    /// Frames per window S (learned positional embeddings cover this many).
    pub frames: usize,
    /// Motion features per frame: 24×6D rotations + 4 contacts + 3 root translation = 151.
    pub motion_dim: usize,
    /// COCO-17 joints of the 2D pose input.
    pub pose_joints: usize,
    /// Channels per 2D joint: (x, y, confidence).
    pub pose_channels: usize,
    /// Joints with confidence below this are masked (x, y zeroed, mask bit 0).
    pub conf_threshold: f32,
    /// Temporal transformer layers of the pose encoder.
    pub encoder_layers: usize,
    /// MLP hidden width = mlp_ratio × d.
    pub mlp_ratio: usize,
    pub activation: Activation,
    /// Probability of dropping the pose condition in training (classifier-free guidance).
    pub cond_drop: f64,
    pub layer_norm_eps: f64,
    /// Frame-aligned conditioning: each motion frame also receives its own frame's pose token
    /// through a linear `frame` (d → d) added at the denoiser input. Absent in checkpoints that
    /// predate it (false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frame_cond: bool,
}

impl ModelConfig {
    /// Seed's small model: d=128, 4 heads, 3 blocks, FiLM v1.
    pub fn small() -> Self {
        Self {
            d_model: 128,
            n_heads: 4,
            n_blocks: 3,
            film: FilmVariant::V1,
            frames: 150,
            motion_dim: 151,
            pose_joints: 17,
            pose_channels: 3,
            conf_threshold: 0.3,
            encoder_layers: 1,
            mlp_ratio: 4,
            activation: Activation::Relu,
            cond_drop: 0.25,
            layer_norm_eps: 1e-5,
            frame_cond: false,
        }
    }

    /// Seed's big model: d=256, 8 heads.
    pub fn big() -> Self {
        Self { d_model: 256, n_heads: 8, ..Self::small() }
    }

    /// Tiny config for tests: d=32, 2 heads, 1 block, `frames` frames.
    pub fn tiny(frames: usize) -> Self {
        Self { d_model: 32, n_heads: 2, n_blocks: 1, frames, mlp_ratio: 2, ..Self::small() }
    }

    pub fn head_dim(&self) -> usize {
        self.d_model / self.n_heads
    }

    /// Checks divisibility and non-zero sizes.
    pub fn validate(&self) -> Result<(), String> {
        if self.d_model == 0 || self.n_heads == 0 || !self.d_model.is_multiple_of(self.n_heads) {
            return Err(format!("d_model {} not divisible by n_heads {}", self.d_model, self.n_heads));
        }
        if !self.d_model.is_multiple_of(2) {
            return Err("d_model must be even (sinusoidal embedding)".into());
        }
        if self.frames == 0 || self.motion_dim == 0 || self.pose_joints == 0 || self.pose_channels != 3 {
            return Err("frames, motion_dim, pose_joints must be > 0 and pose_channels == 3".into());
        }
        if !(0.0..=1.0).contains(&self.cond_drop) {
            return Err("cond_drop must be in [0, 1]".into());
        }
        Ok(())
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self::small()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets() {
        let s = ModelConfig::small();
        assert_eq!((s.d_model, s.n_heads, s.n_blocks, s.frames, s.motion_dim), (128, 4, 3, 150, 151));
        assert_eq!(s.motion_dim, 24 * 6 + 4 + 3);
        let b = ModelConfig::big();
        assert_eq!((b.d_model, b.n_heads, b.head_dim()), (256, 8, 32));
        assert!(s.validate().is_ok() && b.validate().is_ok() && ModelConfig::tiny(16).validate().is_ok());
        let mut bad = ModelConfig::small();
        bad.n_heads = 3;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn serde_roundtrip() {
        let b = ModelConfig::big();
        let s = serde_json::to_string(&b).unwrap();
        let back: ModelConfig = serde_json::from_str(&s).unwrap();
        assert_eq!(b, back);
    }
}
