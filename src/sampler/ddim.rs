//! DDIM from an x0 prediction (Song et al.; ViMo
//! §IV "accelerated via DDIM"): any number of steps, stochasticity η.
//! ε̂ = (x_t − √ᾱ_t x̂0)/√(1−ᾱ_t); σ = η·√((1−ᾱ_s)/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_s);
//! x_s = √ᾱ_s x̂0 + √(1−ᾱ_s−σ²) ε̂ + σ z. At η = 1 and consecutive steps, mean and variance equal
//! DDPM's posterior (tested).
use super::Scheduler;
use crate::diffusion::NoiseSchedule;

#[derive(Debug, Clone)]
pub struct Ddim {
    pub schedule: NoiseSchedule,
    pub eta: f64,
}

impl Ddim {
    pub fn new(schedule: NoiseSchedule, eta: f64) -> Self {
        Self { schedule, eta }
    }
}

impl Scheduler for Ddim {
    fn schedule(&self) -> &NoiseSchedule {
        &self.schedule
    }

    fn coefficients(&self, t: usize, prev: usize) -> (f64, f64, f64) {
        let ab_t = self.schedule.alpha_bar[t];
        let ab_p = self.schedule.alpha_bar[prev];
        let sigma = self.eta * ((1.0 - ab_p) / (1.0 - ab_t)).sqrt() * (1.0 - ab_t / ab_p).max(0.0).sqrt();
        let dir = (1.0 - ab_p - sigma * sigma).max(0.0).sqrt();
        let c_xt = dir / (1.0 - ab_t).sqrt();
        let c_x0 = ab_p.sqrt() - c_xt * ab_t.sqrt();
        (c_x0, c_xt, sigma)
    }
}
