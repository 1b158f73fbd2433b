//! DDPM ancestral sampling from an x0 prediction: ViMo's Algorithm 2 posterior
//! (§3.3 (i)), μ̃ = c1·x̂0 + c2·x_t with
//! c1 = √ᾱ_{t−1}·β_t/(1−ᾱ_t), c2 = √α_t·(1−ᾱ_{t−1})/(1−ᾱ_t), σ² = β_t(1−ᾱ_{t−1})/(1−ᾱ_t) when
//! the σ flag is set. For strided steps t → s, α_t is replaced by ᾱ_t/ᾱ_s (same formula over
//! the merged transition).
use super::Scheduler;
use crate::diffusion::NoiseSchedule;

#[derive(Debug, Clone)]
pub struct Ddpm {
    pub schedule: NoiseSchedule,
    /// Algorithm 2's σ flag: stochastic (true) or posterior-mean (false) update.
    pub stochastic: bool,
}

impl Ddpm {
    pub fn new(schedule: NoiseSchedule, stochastic: bool) -> Self {
        Self { schedule, stochastic }
    }
}

impl Scheduler for Ddpm {
    fn schedule(&self) -> &NoiseSchedule {
        &self.schedule
    }

    fn coefficients(&self, t: usize, prev: usize) -> (f64, f64, f64) {
        let ab_t = self.schedule.alpha_bar[t];
        let ab_p = self.schedule.alpha_bar[prev];
        let alpha = ab_t / ab_p;
        let beta = 1.0 - alpha;
        let c1 = ab_p.sqrt() * beta / (1.0 - ab_t);
        let c2 = alpha.sqrt() * (1.0 - ab_p) / (1.0 - ab_t);
        let var = beta * (1.0 - ab_p) / (1.0 - ab_t);
        (c1, c2, if self.stochastic { var.max(0.0).sqrt() } else { 0.0 })
    }
}
