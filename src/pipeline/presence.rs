//! Who is in view, frame by frame: while the performer is seen the model drives the pose;
//! after `timeout` without them the last pose is held and eased to a neutral idle pose (arms
//! down, same place and heading); when they return the output blends from the idle pose back
//! into the model's over `blend`. Before anyone was ever seen the avatar stands in that idle
//! pose ([`standing_idle`]), never a T-pose. Root translation never jumps: idle keeps the held
//! root, and the return blend interpolates it.
use crate::motion::MotionFrame;
use crate::skeleton::rotation::{axis_angle_to_quat, slerp, Quat, QUAT_IDENTITY};
use crate::skeleton::smpl::NUM_JOINTS;

/// SMPL shoulder joints (arms hang down in the idle pose).
const LEFT_SHOULDER: usize = 16;
const RIGHT_SHOULDER: usize = 17;

/// The idle pose for a held pose: its root and heading, everything else neutral.
pub fn idle_pose(held: &MotionFrame) -> MotionFrame {
    let mut rotations: [Quat; NUM_JOINTS] = [QUAT_IDENTITY; NUM_JOINTS];
    rotations[0] = held.rotations[0];
    rotations[LEFT_SHOULDER] = axis_angle_to_quat([0.0, 0.0, -1.2]);
    rotations[RIGHT_SHOULDER] = axis_angle_to_quat([0.0, 0.0, 1.2]);
    MotionFrame { root: held.root, rotations, contacts: [1.0; 4], ..*held }
}

/// Pelvis height of the standing idle pose (metres, feet on the floor).
pub const STANDING_ROOT: [f32; 3] = [0.0, 0.92, 0.0];

/// The pose sent while nobody was ever in view (and whenever no earlier pose exists): standing
/// at the origin facing +Z, arms down ([`idle_pose`] of the rest pose), feet in contact.
pub fn standing_idle(frame: u64, t: f64) -> MotionFrame {
    idle_pose(&MotionFrame { root: STANDING_ROOT, ..MotionFrame::rest(frame, t) })
}

/// Interpolates two poses joint by joint (slerp) and the root linearly.
pub fn blend(a: &MotionFrame, b: &MotionFrame, w: f32) -> MotionFrame {
    let w = w.clamp(0.0, 1.0);
    MotionFrame {
        root: std::array::from_fn(|k| a.root[k] + w * (b.root[k] - a.root[k])),
        rotations: std::array::from_fn(|j| slerp(a.rotations[j], b.rotations[j], w)),
        contacts: std::array::from_fn(|k| a.contacts[k] + w * (b.contacts[k] - a.contacts[k])),
        ..*b
    }
}

fn smooth(x: f64) -> f32 {
    let x = x.clamp(0.0, 1.0);
    (x * x * (3.0 - 2.0 * x)) as f32
}

/// What to send for one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// The model's pose.
    Live,
    /// Performer gone: held pose → idle pose by this weight; the model is not needed.
    Idle(f32),
    /// Performer back: idle pose → model's pose by this weight.
    Returning(f32),
}

/// The presence state machine (times are media seconds).
#[derive(Debug, Clone)]
pub struct Presence {
    timeout: f64,
    ease: f64,
    blend: f64,
    last_seen: Option<f64>,
    /// When the idle began (performer gone past the timeout) and the pose held then.
    idle: Option<(f64, MotionFrame)>,
    /// When the performer came back and the pose sent just before.
    back: Option<(f64, MotionFrame)>,
}

impl Presence {
    pub fn new(timeout: f64, ease: f64, blend: f64) -> Self {
        Self { timeout, ease: ease.max(1e-3), blend: blend.max(1e-3), last_seen: None, idle: None, back: None }
    }

    /// True when the performer has been gone long enough that the model is not needed at `t`.
    pub fn is_idle_at(&self, t: f64, seen: bool) -> bool {
        !seen && self.last_seen.is_none_or(|s| t - s > self.timeout)
    }

    /// The mode of the frame at `t`; `last_sent` is the pose sent for the previous frame.
    pub fn step(&mut self, t: f64, seen: bool, last_sent: Option<&MotionFrame>) -> Mode {
        if seen {
            self.last_seen = Some(t);
            if let Some((_, _)) = self.idle.take() {
                self.back = last_sent.map(|p| (t, *p));
            }
            return match self.back {
                Some((t0, _)) if t - t0 < self.blend => Mode::Returning(smooth((t - t0) / self.blend)),
                _ => {
                    self.back = None;
                    Mode::Live
                }
            };
        }
        if !self.is_idle_at(t, seen) {
            return match self.back {
                Some((t0, _)) if t - t0 < self.blend => Mode::Returning(smooth((t - t0) / self.blend)),
                _ => Mode::Live,
            };
        }
        if self.idle.is_none() {
            self.back = None;
            // Nobody was ever seen: start from the idle pose itself, not a T-pose.
            let held = last_sent.copied().unwrap_or_else(|| standing_idle(0, 0.0));
            self.idle = Some((t, held));
        }
        let t0 = self.idle.as_ref().map_or(t, |(t0, _)| *t0);
        Mode::Idle(smooth((t - t0) / self.ease))
    }

    /// The pose for `mode`, given the model's pose (ignored while idle).
    pub fn apply(&self, mode: Mode, model: Option<&MotionFrame>) -> Option<MotionFrame> {
        match mode {
            Mode::Live => model.copied(),
            Mode::Idle(w) => self.idle.as_ref().map(|(_, held)| blend(held, &idle_pose(held), w)),
            Mode::Returning(w) => match (&self.back, model) {
                (Some((_, from)), Some(m)) => Some(blend(from, m, w)),
                (_, m) => m.copied(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gone_then_idle_then_back() {
        let mut p = Presence::new(1.0, 1.0, 0.5);
        let pose =
            MotionFrame { root: [1.0, 0.9, 2.0], rotations: [QUAT_IDENTITY; NUM_JOINTS], contacts: [0.0; 4], ..MotionFrame::rest(0, 0.0) };
        assert_eq!(p.step(0.0, true, None), Mode::Live);
        assert_eq!(p.step(0.5, false, Some(&pose)), Mode::Live, "short gap: in-filled by the model");
        let Mode::Idle(w) = p.step(1.5, false, Some(&pose)) else { panic!("idle") };
        assert!(w < 0.01);
        let mode = p.step(3.0, false, Some(&pose));
        let idle = p.apply(mode, None).unwrap();
        assert_eq!(idle.root, pose.root, "root held while idle");
        assert!(matches!(p.step(3.1, true, Some(&idle)), Mode::Returning(w) if w < 0.01));
        assert!(matches!(p.step(3.4, true, Some(&idle)), Mode::Returning(w) if w > 0.5));
        assert_eq!(p.step(3.7, true, Some(&idle)), Mode::Live);
    }
}
