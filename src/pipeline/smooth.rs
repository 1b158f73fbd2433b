//! One-Euro filtering of the motion the stream sends (Casiez et al., CHI 2012): an adaptive
//! low-pass per joint rotation (slerp towards the new rotation, so it stays a unit quaternion in
//! the consistent hemisphere) and on the root translation (lerp). Its cutoff rises with the
//! filtered speed, `min_cutoff + beta · speed` (rad/s for rotations, m/s for the root): little
//! jitter when slow, little lag when fast. Contacts pass through.
use crate::motion::MotionFrame;
use crate::skeleton::rotation::{norm, quat_angle, quat_normalize, slerp, sub, Quat, Vec3};
use crate::skeleton::smpl::NUM_JOINTS;

/// Cutoff of the speed estimate's own low-pass, Hz (the paper's default).
const SPEED_CUTOFF_HZ: f32 = 1.0;
/// Time step assumed when the timestamps give none (30 fps).
const DEFAULT_DT: f32 = 1.0 / 30.0;

/// One-Euro parameters (`pipeline.smoothing_min_cutoff`, `pipeline.smoothing_beta`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Smoothing {
    /// Cutoff at rest, Hz (lower: steadier, more lag when slow).
    pub min_cutoff: f32,
    /// Cutoff increase per unit of speed (higher: less lag when fast, more jitter).
    pub beta: f32,
}

/// Weight of the new sample in a first-order low-pass of cutoff `hz` over `dt` seconds.
fn alpha(hz: f32, dt: f32) -> f32 {
    let r = 2.0 * std::f32::consts::PI * hz * dt;
    r / (1.0 + r)
}

/// Filtered values and speeds of the previous frame.
#[derive(Debug, Clone, Copy)]
struct State {
    t: f64,
    root: Vec3,
    rotations: [Quat; NUM_JOINTS],
    root_speed: f32,
    speeds: [f32; NUM_JOINTS],
}

/// The filter over a stream of poses; [`Self::reset`] makes the next pose pass unchanged.
#[derive(Debug, Clone)]
pub struct PoseFilter {
    params: Smoothing,
    state: Option<State>,
}

impl PoseFilter {
    pub fn new(params: Smoothing) -> Self {
        Self { params, state: None }
    }

    /// Forgets the past: the next pose is sent as it is and the filter starts from it.
    pub fn reset(&mut self) {
        self.state = None;
    }

    /// The filtered pose of the frame at media time `t` (seconds). A pose with a non-finite
    /// value holds the last filtered one (or passes through when there is none).
    pub fn apply(&mut self, t: f64, pose: &MotionFrame) -> MotionFrame {
        let finite = pose.root.iter().chain(pose.rotations.iter().flatten()).all(|v| v.is_finite());
        let prev = match (self.state, finite) {
            (Some(prev), true) => prev,
            (Some(held), false) => return MotionFrame { root: held.root, rotations: held.rotations, ..*pose },
            (None, _) => {
                if finite {
                    self.state = Some(State { t, root: pose.root, rotations: pose.rotations, root_speed: 0.0, speeds: [0.0; NUM_JOINTS] });
                }
                return *pose;
            }
        };
        let dt = (t - prev.t) as f32;
        let dt = if dt.is_finite() && dt > 0.0 { dt.clamp(1e-3, 1.0) } else { DEFAULT_DT };
        let Smoothing { min_cutoff, beta } = self.params;
        let a_speed = alpha(SPEED_CUTOFF_HZ, dt);
        // One channel: its speed estimate (raw speed towards the new sample, low-passed), then
        // the step towards the new sample at the speed's cutoff.
        let step = |speed: &mut f32, distance: f32| -> f32 {
            *speed += a_speed * (distance / dt - *speed);
            alpha(min_cutoff + beta * *speed, dt)
        };
        let mut next = prev;
        next.t = t;
        let w = step(&mut next.root_speed, norm(sub(pose.root, prev.root)));
        next.root = std::array::from_fn(|k| prev.root[k] + w * (pose.root[k] - prev.root[k]));
        for j in 0..NUM_JOINTS {
            let w = step(&mut next.speeds[j], quat_angle(prev.rotations[j], pose.rotations[j]));
            next.rotations[j] = quat_normalize(slerp(prev.rotations[j], pose.rotations[j], w));
        }
        self.state = Some(next);
        MotionFrame { root: next.root, rotations: next.rotations, ..*pose }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::rotation::{axis_angle_to_quat, QUAT_IDENTITY};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const PARAMS: Smoothing = Smoothing { min_cutoff: 1.0, beta: 0.05 };

    fn pose(x: f32, angle: f32) -> MotionFrame {
        let mut rotations = [QUAT_IDENTITY; NUM_JOINTS];
        rotations[5] = axis_angle_to_quat([0.0, angle, 0.0]);
        MotionFrame { root: [x, 0.9, 0.0], rotations, contacts: [0.0; 4], ..MotionFrame::rest(0, 0.0) }
    }

    /// Mean absolute second difference of a series (the jitter of a constant signal).
    fn roughness(v: &[f32]) -> f32 {
        v.windows(3).map(|w| (w[2] - 2.0 * w[1] + w[0]).abs()).sum::<f32>() / (v.len() - 2) as f32
    }

    #[test]
    fn cuts_the_jitter_of_a_noisy_constant_signal() {
        let mut f = PoseFilter::new(PARAMS);
        let mut rng = StdRng::seed_from_u64(1);
        let (mut raw, mut out, mut raw_a, mut out_a) = (vec![], vec![], vec![], vec![]);
        for i in 0..300 {
            let p = pose(1.0 + rng.random_range(-0.01..0.01), 0.5 + rng.random_range(-0.02..0.02));
            let q = f.apply(i as f64 / 30.0, &p);
            assert!(q.root.iter().chain(q.rotations.iter().flatten()).all(|v| v.is_finite()));
            for r in &q.rotations {
                assert!((r.iter().map(|c| c * c).sum::<f32>() - 1.0).abs() < 1e-5, "unit norm");
            }
            raw.push(p.root[0]);
            out.push(q.root[0]);
            raw_a.push(quat_angle(QUAT_IDENTITY, p.rotations[5]));
            out_a.push(quat_angle(QUAT_IDENTITY, q.rotations[5]));
        }
        assert!(roughness(&out) < 0.2 * roughness(&raw), "root {} vs {}", roughness(&out), roughness(&raw));
        assert!(roughness(&out_a) < 0.2 * roughness(&raw_a), "rotation {} vs {}", roughness(&out_a), roughness(&raw_a));
        assert!((out[299] - 1.0).abs() < 0.01 && (out_a[299] - 0.5).abs() < 0.02, "stays on the signal");
    }

    #[test]
    fn follows_a_step_and_a_ramp_with_bounded_lag() {
        let mut f = PoseFilter::new(PARAMS);
        let mut last = f.apply(0.0, &pose(0.0, 0.0));
        // A step of 0.5 m and 1 rad: within half a second most of the way there, never past it.
        for i in 1..=15 {
            last = f.apply(i as f64 / 30.0, &pose(0.5, 1.0));
            assert!(last.root[0] <= 0.5 + 1e-6);
        }
        assert!(last.root[0] > 0.45, "root after 0.5 s: {}", last.root[0]);
        assert!(quat_angle(last.rotations[5], pose(0.5, 1.0).rotations[5]) < 0.1);
        // A ramp at 1.5 m/s and 3 rad/s: after a second the lag is about a first-order
        // low-pass's at the raised cutoff, v / (2π (min_cutoff + beta v)), and a higher beta
        // shortens it.
        let ramp = |params: Smoothing| {
            let mut f = PoseFilter::new(params);
            let mut last = f.apply(0.0, &pose(0.0, 0.0));
            for i in 1..=30 {
                let t = i as f32 / 30.0;
                last = f.apply(t as f64, &pose(1.5 * t, 3.0 * t));
            }
            (1.5 - last.root[0], quat_angle(last.rotations[5], pose(1.5, 3.0).rotations[5]))
        };
        let bound = |v: f32, p: Smoothing| 1.2 * v / (2.0 * std::f32::consts::PI * (p.min_cutoff + p.beta * v));
        let (lag_m, lag_rad) = ramp(PARAMS);
        assert!(lag_m > 0.0 && lag_m < bound(1.5, PARAMS), "root lag {lag_m} m");
        assert!(lag_rad < bound(3.0, PARAMS), "rotation lag {lag_rad} rad");
        let fast = Smoothing { beta: 1.0, ..PARAMS };
        let (fast_m, fast_rad) = ramp(fast);
        assert!(fast_m < 0.6 * lag_m && fast_rad < 0.6 * lag_rad && fast_m < bound(1.5, fast));
    }

    #[test]
    fn holds_through_non_finite_input_and_resets() {
        let mut f = PoseFilter::new(PARAMS);
        f.apply(0.0, &pose(1.0, 0.2));
        let held = f.apply(1.0 / 30.0, &pose(f32::NAN, 0.2));
        assert_eq!(held.root, [1.0, 0.9, 0.0]);
        // Repeated or missing timestamps still give finite output.
        let same_t = f.apply(1.0 / 30.0, &pose(2.0, 0.4));
        assert!(same_t.root.iter().all(|v| v.is_finite()) && same_t.root[0] > 1.0);
        f.reset();
        assert_eq!(f.apply(5.0, &pose(3.0, 0.1)).root, [3.0, 0.9, 0.0], "after a reset the pose passes");
    }
}
