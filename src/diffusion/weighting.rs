//! Timestep loss weightings for the x0 objective (ViMo
//! §2.4, §3.4 (iii), §IV "SNR Weighting Strategies"): constant, SNR, Min-SNR-γ (default γ = 5),
//! and ViMo's recommended sqrt-decay averaging w_t = ½\[min(SNR_t, γ) + √(1 − t/T)\] (γ = 1),
//! each optionally normalised by its batch mean. Per-frame weights when t is per frame.
//!
//! t is the 0-based step index (see [`super::schedule`]), so √(1 − t/T) is 1 at t = 0 and
//! √(1/T) at t = T − 1.
use candle_core::{DType, Result, Tensor, D};

use super::schedule::NoiseSchedule;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weighting {
    /// w_t = 1.
    Constant,
    /// w_t = SNR_t.
    Snr,
    /// w_t = min(SNR_t, γ).
    MinSnr { gamma: f64 },
    /// w_t = ½\[min(SNR_t, γ) + √(1 − t/T)\].
    SqrtDecayAveraging { gamma: f64 },
}

impl Weighting {
    /// Min-SNR (Min-SNR weighting, Hang et al. 2023) with ViMo's default γ = 5.
    pub fn min_snr() -> Self {
        Weighting::MinSnr { gamma: 5.0 }
    }

    /// ViMo's recommended setting: sqrt-decay averaging, γ = 1.
    pub fn recommended() -> Self {
        Weighting::SqrtDecayAveraging { gamma: 1.0 }
    }

    pub fn weight(&self, sched: &NoiseSchedule, t: usize) -> f64 {
        let snr = sched.snr(t);
        match *self {
            Weighting::Constant => 1.0,
            Weighting::Snr => snr,
            Weighting::MinSnr { gamma } => snr.min(gamma),
            Weighting::SqrtDecayAveraging { gamma } => 0.5 * (snr.min(gamma) + (1.0 - t as f64 / sched.num_steps() as f64).sqrt()),
        }
    }
}

/// A weighting plus the per-batch normalisation option (weights divided by their batch mean).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeighting {
    pub kind: Weighting,
    pub normalize: bool,
}

impl LossWeighting {
    pub fn new(kind: Weighting, normalize: bool) -> Self {
        Self { kind, normalize }
    }

    /// Weights for integer timesteps t (\[B\] or \[B, S\]) → f32 tensor of the same shape.
    pub fn weights(&self, sched: &NoiseSchedule, t: &Tensor) -> Result<Tensor> {
        let ts = t.to_dtype(DType::U32)?.flatten_all()?.to_vec1::<u32>()?;
        let mut w: Vec<f64> = ts.iter().map(|&t| self.kind.weight(sched, t as usize)).collect();
        if self.normalize && !w.is_empty() {
            let mean = w.iter().sum::<f64>() / w.len() as f64;
            if mean > 0.0 {
                w.iter_mut().for_each(|v| *v /= mean);
            }
        }
        let w: Vec<f32> = w.into_iter().map(|v| v as f32).collect();
        Tensor::from_vec(w, t.shape(), t.device())
    }
}

/// mean over clips and frames of w · ‖x0 − x̂0‖² / D, with w \[B\] or \[B, S\].
pub fn weighted_x0_loss(pred: &Tensor, target: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, s, _) = pred.dims3()?;
    let err = (pred - target)?.sqr()?.mean(D::Minus1)?; // [B, S]
    let w = match w.rank() {
        1 => w.reshape((b, 1))?.broadcast_as((b, s))?,
        _ => w.clone(),
    };
    (err * w)?.mean_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn closed_forms() -> Result<()> {
        let s = NoiseSchedule::seed_default(&Device::Cpu)?;
        // ᾱ by hand: ∏ (1 − β_i), β_i = 1e-4 + (0.02 − 1e-4)·i/999
        let ab = |t: usize| (0..=t).map(|i| 1.0 - (1e-4 + (0.02 - 1e-4) * i as f64 / 999.0)).product::<f64>();
        let snr = |t: usize| ab(t) / (1.0 - ab(t));
        for t in [0usize, 500, 999] {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
            assert!(close(Weighting::Constant.weight(&s, t), 1.0));
            assert!(close(Weighting::Snr.weight(&s, t), snr(t)));
            assert!(close(Weighting::min_snr().weight(&s, t), snr(t).min(5.0)));
            let sda = 0.5 * (snr(t).min(1.0) + (1.0 - t as f64 / 1000.0).sqrt());
            assert!(close(Weighting::recommended().weight(&s, t), sda));
        }
        // concrete values: t=0 SNR = 9999 → min-SNR 5, SDA ½(1 + 1) = 1
        assert_eq!(Weighting::min_snr().weight(&s, 0), 5.0);
        assert!((Weighting::recommended().weight(&s, 0) - 1.0).abs() < 1e-12);
        assert!((Weighting::recommended().weight(&s, 500) - 0.5 * (snr(500) + 0.5f64.sqrt())).abs() < 1e-12);
        assert!(snr(500) < 1.0 && snr(999) < 1e-4);
        Ok(())
    }

    #[test]
    fn per_frame_and_normalised() -> Result<()> {
        let dev = Device::Cpu;
        let s = NoiseSchedule::seed_default(&dev)?;
        let t = Tensor::new(&[[0u32, 500], [999, 0]], &dev)?;
        let w = LossWeighting::new(Weighting::min_snr(), false).weights(&s, &t)?.to_vec2::<f32>()?;
        assert_eq!(w[0][0], 5.0);
        assert!((w[0][1] as f64 - s.snr(500)).abs() < 1e-6 && (w[1][0] as f64 - s.snr(999)).abs() < 1e-9);
        let n = LossWeighting::new(Weighting::min_snr(), true).weights(&s, &t)?;
        assert!((n.mean_all()?.to_scalar::<f32>()? - 1.0).abs() < 1e-5);
        // weighted loss: err 1 per frame, weights [1, 3] → mean 2
        let p = Tensor::ones((2, 1, 4), DType::F32, &dev)?;
        let z = Tensor::zeros((2, 1, 4), DType::F32, &dev)?;
        let l = weighted_x0_loss(&p, &z, &Tensor::new(&[1f32, 3.], &dev)?)?.to_scalar::<f32>()?;
        assert!((l - 2.0).abs() < 1e-6);
        Ok(())
    }
}
