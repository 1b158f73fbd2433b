//! Graceful degradation under load: the [`Governor`] watches how late the denoise loop's frames
//! leave (capture → emitted, the oldest frame of each update) and, when that exceeds
//! `pipeline.latency_budget_ms`, lowers the cost of an update one rung at a time: guidance off
//! first (it doubles the batch), then half the DDIM steps, down to one step (the model's x0
//! estimate). The adaptive stride already makes each update cover every frame that arrived
//! meanwhile, so a cheaper update bounds latency. It climbs back one rung when the predicted
//! latency of the rung above has stayed well inside the budget for a while.
use std::time::Duration;

/// Smoothing of the per-update latency (exponential moving average weight of the newest).
const ALPHA: f64 = 0.2;
/// Updates to wait after a change before stepping down again (the change needs a few updates
/// to show in the latency).
const SETTLE_UPDATES: u32 = 8;
/// Updates a rung must hold before stepping up (about 3 s at the adaptive stride's ~30 updates
/// a second).
const CALM_UPDATES: u32 = 90;
/// Step up only when the rung above is predicted to stay under this share of the budget.
const HEADROOM: f64 = 0.8;

/// One rung of the ladder: what an update costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rung {
    pub steps: usize,
    pub guidance: f64,
}

/// Picks the rung of each update from the latency of the frames the last ones sent.
#[derive(Debug, Clone)]
pub struct Governor {
    budget_ms: Option<f64>,
    /// Rung 0 is the configured sampling; each next one is cheaper.
    ladder: Vec<Rung>,
    level: usize,
    latency_ms: Option<f64>,
    /// Smoothed update duration on the current rung, ms.
    update_ms: Option<f64>,
    since_change: u32,
}

impl Governor {
    /// A governor for the configured `steps` and `guidance`; `budget: None` never degrades.
    pub fn new(steps: usize, guidance: f64, budget: Option<Duration>) -> Self {
        let mut ladder = vec![Rung { steps, guidance }];
        if guidance > 0.0 {
            ladder.push(Rung { steps, guidance: 0.0 });
        }
        let mut s = steps;
        while s > 1 {
            s = s.div_ceil(2);
            ladder.push(Rung { steps: s, guidance: 0.0 });
        }
        Self { budget_ms: budget.map(|b| b.as_secs_f64() * 1e3), ladder, level: 0, latency_ms: None, update_ms: None, since_change: 0 }
    }

    /// The rung updates run at now.
    pub fn rung(&self) -> Rung {
        self.ladder[self.level]
    }

    /// The configured (full-quality) rung.
    pub fn full(&self) -> Rung {
        self.ladder[0]
    }

    /// The smoothed latency of the last updates' oldest frames, ms.
    pub fn latency_ms(&self) -> Option<f64> {
        self.latency_ms
    }

    /// The budget, ms (`None`: never degrades).
    pub fn budget_ms(&self) -> Option<f64> {
        self.budget_ms
    }

    /// Whether updates run below the configured quality.
    pub fn degraded(&self) -> bool {
        self.level > 0
    }

    /// Takes one update's measures: `latency_ms`, capture → emitted of its oldest frame, and
    /// `update_ms`, how long it took. Returns the new rung when it changes.
    pub fn observe(&mut self, latency_ms: f64, update_ms: f64) -> Option<Rung> {
        if !(latency_ms.is_finite() && update_ms.is_finite()) {
            return None;
        }
        let ewma = |old: Option<f64>, new: f64| Some(old.map_or(new, |o| o + ALPHA * (new - o)));
        self.latency_ms = ewma(self.latency_ms, latency_ms);
        self.update_ms = ewma(self.update_ms, update_ms);
        self.since_change = self.since_change.saturating_add(1);
        let (budget, latency) = (self.budget_ms?, self.latency_ms?);
        if latency > budget && self.level + 1 < self.ladder.len() && self.since_change >= SETTLE_UPDATES {
            return Some(self.change(self.level + 1));
        }
        if self.level > 0 && self.since_change >= CALM_UPDATES && self.predicted_above()? < HEADROOM * budget {
            return Some(self.change(self.level - 1));
        }
        None
    }

    /// The latency expected one rung up: a frame can wait for one update to finish and then go
    /// through the next, so it grows by twice the difference in update time. The rung above is
    /// costed from this rung's time now, scaled by its model passes (steps, doubled with
    /// guidance): an overestimate, since the per-window encoding does not scale, and never
    /// stale, unlike a time measured on that rung under another load.
    fn predicted_above(&self) -> Option<f64> {
        let (now, up) = (self.ladder[self.level], self.ladder[self.level - 1]);
        let here = self.update_ms?;
        let passes = |r: Rung| (r.steps * if r.guidance > 0.0 { 2 } else { 1 }) as f64;
        Some(self.latency_ms? + 2.0 * here * (passes(up) / passes(now) - 1.0))
    }

    fn change(&mut self, level: usize) -> Rung {
        self.level = level;
        self.since_change = 0;
        self.update_ms = None;
        self.ladder[level]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(ms: u64) -> Option<Duration> {
        Some(Duration::from_millis(ms))
    }

    #[test]
    fn the_ladder_drops_guidance_first_then_halves_the_steps_to_one() {
        let g = Governor::new(4, 1.5, None);
        let steps: Vec<(usize, f64)> = g.ladder.iter().map(|r| (r.steps, r.guidance)).collect();
        assert_eq!(steps, [(4, 1.5), (4, 0.0), (2, 0.0), (1, 0.0)]);
        let g = Governor::new(10, 0.0, None);
        assert_eq!(g.ladder.iter().map(|r| r.steps).collect::<Vec<_>>(), [10, 5, 3, 2, 1]);
        assert_eq!(Governor::new(1, 0.0, None).ladder.len(), 1);
    }

    #[test]
    fn over_budget_it_steps_down_one_rung_per_settling_period_to_the_floor() {
        let mut g = Governor::new(4, 0.0, budget(80));
        let mut changes = vec![];
        for i in 0..100 {
            if let Some(r) = g.observe(150.0, 40.0) {
                changes.push((i, r.steps));
            }
        }
        // The first change waits for the settling period, the next one for another.
        assert_eq!(changes, [(7, 2), (15, 1)]);
        assert!(g.degraded() && g.rung().steps == 1 && g.full().steps == 4);
    }

    #[test]
    fn it_steps_back_up_only_when_the_rung_above_is_predicted_to_fit() {
        let mut g = Governor::new(4, 0.0, budget(80));
        while g.rung().steps > 1 {
            g.observe(150.0, 40.0);
        }
        // On one step: 50 ms latency, 10 ms updates; two steps would take ~20 ms, so
        // 50 + 2 × 10 = 70 ms > 0.8 × 80: stay.
        for _ in 0..500 {
            assert_eq!(g.observe(50.0, 10.0), None);
        }
        // Load gone: 30 ms latency, 8 ms updates → 30 + 16 = 46 ms: up, once the average has
        // followed.
        let ups: Vec<usize> = (0..20).filter_map(|_| g.observe(30.0, 8.0)).map(|r| r.steps).collect();
        assert_eq!(ups, [2]);
        // On two steps: 40 ms latency, 16 ms updates → four steps 40 + 2 × 32 = 104 ms: stay.
        assert!((0..500).all(|_| g.observe(40.0, 16.0).is_none()));
        // A lighter load again: 25 ms, 8 ms updates → 25 + 16 = 41 ms, after the calm period.
        let ups: Vec<(usize, usize)> = (0..200).filter_map(|i| g.observe(25.0, 8.0).map(|r| (i, r.steps))).collect();
        assert_eq!(ups.iter().map(|u| u.1).collect::<Vec<_>>(), [4]);
        assert!(!g.degraded());
    }

    #[test]
    fn without_a_budget_or_a_finite_measure_nothing_changes() {
        let mut g = Governor::new(4, 0.0, None);
        assert!((0..200).all(|_| g.observe(1e6, 1e3).is_none()));
        let mut g = Governor::new(4, 0.0, budget(80));
        assert!((0..200).all(|_| g.observe(f64::NAN, 10.0).is_none() && g.observe(f64::INFINITY, 1.0).is_none()));
        assert!(!g.degraded());
    }
}
