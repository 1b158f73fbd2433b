//! `TrainConfig`: every knob of a training run, read from `config/train.toml` (ViMo
//! §3.4, §IV). Unknown keys are an error.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::TrainError;
use crate::diffusion::{LossWeighting, PSchedule, PtssSampler, Weighting};
use crate::model::{FilmVariant, ModelConfig};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Built data set (`manifest.json` + shards).
    pub data_dir: PathBuf,
    /// Run folder: checkpoint, log.jsonl, loss.png, model-card.md.
    pub out_dir: PathBuf,
    pub seed: u64,
    /// CPU threads for candle / rayon (0 = leave the default).
    pub threads: usize,
    pub model: ModelSection,
    pub optim: OptimSection,
    pub loss: LossSection,
    pub schedule: ScheduleSection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Small,
    Big,
    Tiny,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    pub preset: Preset,
    /// "v1" (one shared FiLM) or "v2" (three FiLMs per block).
    pub film: String,
    /// Frames per training window; clips longer than this are randomly cropped.
    pub frames: usize,
    /// Probability of the null pose condition (classifier-free guidance).
    pub cond_drop: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimKind {
    Adan,
    Adamw,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimSection {
    pub kind: OptimKind,
    pub lr: f64,
    pub weight_decay: f64,
    /// Linear warm-up of the learning rate over this many steps (0 = none).
    pub warmup_steps: usize,
    /// Clip the global gradient norm to this (0 = off).
    pub grad_clip: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightingKind {
    Constant,
    Snr,
    MinSnr,
    SqrtDecayAvg,
}

/// λ that ramps linearly from `from` to `to` over `ramp_steps` (0 = constant `to`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lambda {
    pub to: f64,
    #[serde(default)]
    pub from: Option<f64>,
    #[serde(default)]
    pub ramp_steps: usize,
}

impl Lambda {
    pub fn at(&self, step: usize) -> f64 {
        match self.from {
            Some(from) if self.ramp_steps > 0 => from + (self.to - from) * (step as f64 / self.ramp_steps as f64).min(1.0),
            _ => self.to,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossSection {
    pub weighting: WeightingKind,
    /// Cap γ of min_snr / sqrt_decay_avg.
    pub gamma: f64,
    /// Divide the weights by their batch mean.
    pub normalize: bool,
    /// PTSS probability of per-frame timesteps: `p_from` → `p_to` over `p_steps` steps.
    pub p_from: f64,
    pub p_to: f64,
    pub p_steps: usize,
    pub joints: Lambda,
    pub vel: Lambda,
    pub foot: Lambda,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    pub batch_size: usize,
    /// Total optimiser steps.
    pub steps: usize,
    /// Validate every N steps (0 = only at the end).
    pub val_every: usize,
    /// Batches of the validation loss.
    pub val_batches: usize,
    /// Validation clips sampled with DDIM for MPJPE.
    pub val_mpjpe_clips: usize,
    /// DDIM steps of those samples.
    pub val_ddim_steps: usize,
    /// Save checkpoint + model card every N steps (0 = only at the end).
    pub checkpoint_every: usize,
    /// Refresh the progress bar / log line every N steps.
    pub log_every: usize,
    /// Show the progress bar.
    pub progress: bool,
}

impl TrainConfig {
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|source| TrainError::Io { path: path.into(), source })?;
        let cfg: Self = toml::from_str(&text).map_err(|e| TrainError::Config(format!("{}: {e}", path.display())))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: &str| Err(TrainError::Config(m.into()));
        if self.schedule.batch_size == 0 || self.schedule.steps == 0 {
            return bad("schedule.batch_size and schedule.steps must be > 0");
        }
        if self.optim.lr.is_nan() || self.optim.lr <= 0.0 {
            return bad("optim.lr must be > 0");
        }
        if !(0.0..=1.0).contains(&self.loss.p_from) || !(0.0..=1.0).contains(&self.loss.p_to) {
            return bad("loss.p_from / p_to must be in [0, 1]");
        }
        self.model_config()?;
        Ok(())
    }

    pub fn model_config(&self) -> Result<ModelConfig, TrainError> {
        let m = &self.model;
        let mut c = match m.preset {
            Preset::Small => ModelConfig::small(),
            Preset::Big => ModelConfig::big(),
            Preset::Tiny => ModelConfig::tiny(m.frames),
        };
        c.frames = m.frames;
        c.cond_drop = m.cond_drop;
        c.film = match m.film.as_str() {
            "v1" => FilmVariant::V1,
            "v2" => FilmVariant::V2,
            f => return Err(TrainError::Config(format!("model.film `{f}`: expected v1 or v2"))),
        };
        c.validate().map_err(TrainError::Config)?;
        Ok(c)
    }

    pub fn weighting(&self) -> LossWeighting {
        let g = self.loss.gamma;
        let kind = match self.loss.weighting {
            WeightingKind::Constant => Weighting::Constant,
            WeightingKind::Snr => Weighting::Snr,
            WeightingKind::MinSnr => Weighting::MinSnr { gamma: g },
            WeightingKind::SqrtDecayAvg => Weighting::SqrtDecayAveraging { gamma: g },
        };
        LossWeighting::new(kind, self.loss.normalize)
    }

    pub fn ptss(&self, num_steps: usize) -> PtssSampler {
        let l = &self.loss;
        PtssSampler::new(PSchedule::Linear { from: l.p_from, to: l.p_to, steps: l.p_steps }, num_steps)
    }
}

impl Default for TrainConfig {
    /// ViMo's recipe for the small model (matches `config/train.toml`).
    fn default() -> Self {
        let lam = |to| Lambda { to, from: None, ramp_steps: 0 };
        Self {
            data_dir: "data/train".into(),
            out_dir: "runs/default".into(),
            seed: 17,
            threads: 0,
            model: ModelSection { preset: Preset::Small, film: "v1".into(), frames: 150, cond_drop: 0.25 },
            optim: OptimSection { kind: OptimKind::Adan, lr: 1e-4, weight_decay: 0.02, warmup_steps: 0, grad_clip: 0.0 },
            loss: LossSection {
                weighting: WeightingKind::SqrtDecayAvg,
                gamma: 1.0,
                normalize: false,
                p_from: 0.2,
                p_to: 0.5,
                p_steps: 20_000,
                joints: lam(0.1),
                vel: lam(0.02),
                foot: lam(0.05),
            },
            schedule: ScheduleSection {
                batch_size: 4,
                steps: 200_000,
                val_every: 500,
                val_batches: 4,
                val_mpjpe_clips: 8,
                val_ddim_steps: 8,
                checkpoint_every: 500,
                log_every: 10,
                progress: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_parses_and_matches_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/train.toml");
        let c = TrainConfig::load(&path).unwrap();
        let d = TrainConfig { threads: 2, ..TrainConfig::default() };
        assert_eq!(c, d);
        assert!(toml::from_str::<TrainConfig>("bogus = 1").is_err());
        let l = Lambda { to: 0.1, from: Some(0.0), ramp_steps: 10 };
        assert!((l.at(5) - 0.05).abs() < 1e-12 && (l.at(50) - 0.1).abs() < 1e-12);
    }
}
