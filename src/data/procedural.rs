//! Procedural SMPL-24 motion (coverage beyond the few real minutes) and mixing of real clips.
//!
//! Each joint's local rotation is an axis-angle vector whose three components move inside
//! per-joint limits ([`JOINT_LIMITS`], radians, SMPL rest frame: +X = subject's left, +Y up,
//! +Z forward). A component is `lo + (hi - lo) * sigmoid(s(t) + bias)` where `s` is a sum of
//! three low-frequency sinusoids (0.05..`max_frequency` Hz) whose amplitudes are scaled so the
//! component's angular speed stays under `component_speed` rad/s; the bias puts `s = 0` at a
//! natural neutral pose (arms down, slight knee bend). A root path alternates standing and
//! walking (speed ramps with bounded acceleration, smoothly varying turning rate); while walking
//! a gait cycle (hip/knee/ankle swing, counter-swinging arms, cadence from speed) is added and
//! the result clamped to the limits. Feet stay on the floor: every frame the pelvis height is
//! set so that the lowest foot joint touches height 0. Angular speeds stay under
//! [`MAX_ANGULAR_SPEED`].

use rand::Rng;

use crate::motion::Motion;
use crate::skeleton::rotation::*;
use crate::skeleton::smpl::{LEFT_RIGHT, NUM_JOINTS};
use crate::skeleton::smpl_fk;

/// Upper bound of any joint's angular speed in procedural motion, rad/s.
pub const MAX_ANGULAR_SPEED: f32 = 12.0;
/// Upper bound of the root's horizontal speed, m/s.
pub const MAX_ROOT_SPEED: f32 = 1.8;

type Lim = [(f32, f32); 3];
const Z: (f32, f32) = (-0.15, 0.15);

/// Left-side and central joint limits (axis-angle components x, y, z, radians); right-side
/// joints are the mirror image (y and z negated). The pelvis' limits are relative to its yaw.
const LEFT_LIMITS: [Lim; NUM_JOINTS] = [
    [(-0.3, 0.4), (-0.4, 0.4), (-0.2, 0.2)],      // pelvis
    [(-1.8, 0.5), (-0.5, 0.6), (-0.35, 0.8)],     // left_hip
    [(0.0, 0.0); 3],                              // right_hip (mirrored)
    [(-0.25, 0.5), (-0.35, 0.35), (-0.25, 0.25)], // spine1
    [(0.0, 2.2), (-0.15, 0.15), (-0.1, 0.1)],     // left_knee
    [(0.0, 0.0); 3],
    [(-0.2, 0.4), (-0.3, 0.3), (-0.2, 0.2)], // spine2
    [(-0.6, 0.7), (-0.3, 0.3), (-0.3, 0.3)], // left_ankle
    [(0.0, 0.0); 3],
    [(-0.2, 0.3), (-0.3, 0.3), (-0.2, 0.2)], // spine3
    [(-0.5, 0.3), Z, Z],                     // left_foot
    [(0.0, 0.0); 3],
    [(-0.4, 0.5), (-0.6, 0.6), (-0.3, 0.3)], // neck
    [(-0.2, 0.2), (-0.3, 0.2), (-0.2, 0.4)], // left_collar
    [(0.0, 0.0); 3],
    [(-0.4, 0.4), (-0.5, 0.5), (-0.3, 0.3)],  // head
    [(-0.8, 0.8), (-1.5, 0.6), (-1.45, 1.2)], // left_shoulder
    [(0.0, 0.0); 3],
    [(-0.6, 0.6), (-2.3, 0.0), (-0.2, 0.2)], // left_elbow
    [(0.0, 0.0); 3],
    [(-0.7, 0.7), (-0.4, 0.4), (-0.7, 0.6)], // left_wrist
    [(0.0, 0.0); 3],
    [(-0.3, 0.3), Z, (-0.3, 0.3)], // left_hand
    [(0.0, 0.0); 3],
];

/// Neutral pose inside the limits (s = 0): arms down, elbows and knees slightly bent.
const LEFT_NEUTRAL: [(usize, [f32; 3]); 5] =
    [(4, [0.15, 0.0, 0.0]), (16, [0.0, -0.1, -1.2]), (18, [0.0, -0.35, 0.0]), (1, [-0.1, 0.0, 0.05]), (7, [0.05, 0.0, 0.0])];

/// Per-joint limits for every SMPL joint (right side mirrored from the left).
pub const JOINT_LIMITS: [Lim; NUM_JOINTS] = mirror_limits();

const fn mirror_limits() -> [Lim; NUM_JOINTS] {
    let mut out = LEFT_LIMITS;
    let mut i = 0;
    while i < LEFT_RIGHT.len() {
        let (l, r) = LEFT_RIGHT[i];
        let a = LEFT_LIMITS[l];
        out[r] = [a[0], (-a[1].1, -a[1].0), (-a[2].1, -a[2].0)];
        i += 1;
    }
    out
}

fn neutral(j: usize) -> [f32; 3] {
    for &(l, v) in &LEFT_NEUTRAL {
        if l == j {
            return v;
        }
    }
    for &(l, r) in &LEFT_RIGHT {
        if r == j {
            let v = neutral(l);
            return [v[0], -v[1], -v[2]];
        }
    }
    let lim = JOINT_LIMITS[j];
    std::array::from_fn(|k| 0.5 * (lim[k].0 + lim[k].1))
}

/// Procedural generator options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProceduralOptions {
    /// Length of one generated take, seconds.
    pub seconds: f32,
    pub fps: f32,
    /// Highest sinusoid frequency, Hz.
    pub max_frequency: f32,
    /// Cap of one axis-angle component's speed from the sinusoids, rad/s.
    pub component_speed: f32,
    /// Fraction of time spent walking.
    pub walk_fraction: f32,
}

impl Default for ProceduralOptions {
    fn default() -> Self {
        ProceduralOptions { seconds: 20.0, fps: 30.0, max_frequency: 1.2, component_speed: 3.0, walk_fraction: 0.5 }
    }
}

struct Signal {
    terms: [(f32, f32, f32); 3], // amplitude, angular frequency, phase
    bias: f32,
}

impl Signal {
    fn new(rng: &mut impl Rng, opts: &ProceduralOptions, lo: f32, hi: f32, neutral: f32, energy: f32) -> Signal {
        let width = (hi - lo).max(1e-6);
        let p = ((neutral - lo) / width).clamp(0.02, 0.98);
        let bias = (p / (1.0 - p)).ln();
        let mut terms = [(0.0, 0.0, 0.0); 3];
        for t in &mut terms {
            let f = rng.random_range(0.05..opts.max_frequency.max(0.06));
            *t = (rng.random_range(0.0..1.0f32) * energy, std::f32::consts::TAU * f, rng.random_range(0.0..std::f32::consts::TAU));
        }
        // d/dt [width * sigmoid] <= width / 4 * sum(a * w): cap it and the amplitude.
        let speed: f32 = terms.iter().map(|t| t.0 * t.1).sum::<f32>() * width / 4.0;
        let amp: f32 = terms.iter().map(|t| t.0).sum();
        let k = (opts.component_speed / speed.max(1e-6)).min(2.5 / amp.max(1e-6)).min(1.0);
        for t in &mut terms {
            t.0 *= k;
        }
        Signal { terms, bias }
    }
    fn at(&self, t: f32) -> f32 {
        self.terms.iter().map(|(a, w, p)| a * (w * t + p).sin()).sum()
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Generate one procedural take.
pub fn generate(opts: &ProceduralOptions, rng: &mut impl Rng) -> Motion {
    let n = ((opts.seconds * opts.fps).round() as usize).max(2);
    let dt = 1.0 / opts.fps;
    let energy = rng.random_range(0.4..1.0f32);
    let signals: Vec<[Signal; 3]> = (0..NUM_JOINTS)
        .map(|j| {
            let nv = neutral(j);
            std::array::from_fn(|k| {
                let (lo, hi) = JOINT_LIMITS[j][k];
                Signal::new(rng, opts, lo, hi, nv[k], energy)
            })
        })
        .collect();
    // Root path: target speed changes every 2..5 s, bounded acceleration; turning rate drifts.
    let mut speed = 0.0f32;
    let mut target = 0.0f32;
    let mut next_change = 0.0f32;
    let mut heading = rng.random_range(0.0..std::f32::consts::TAU);
    let mut turn = 0.0f32;
    let mut turn_target = 0.0f32;
    let mut phase = rng.random_range(0.0..std::f32::consts::TAU);
    let mut pos = [0.0f32, 0.0, 0.0];
    let mut out = Motion { fps: opts.fps, root: Vec::with_capacity(n), rotations: Vec::with_capacity(n) };
    for i in 0..n {
        let t = i as f32 * dt;
        if t >= next_change {
            next_change = t + rng.random_range(2.0..5.0);
            target = if rng.random::<f32>() < opts.walk_fraction { rng.random_range(0.5..1.6) } else { 0.0 };
            turn_target = rng.random_range(-0.8..0.8f32) * if rng.random::<f32>() < 0.3 { 0.0 } else { 1.0 };
        }
        speed += (target - speed).clamp(-dt, dt);
        speed = speed.clamp(0.0, MAX_ROOT_SPEED);
        turn += (turn_target - turn).clamp(-0.8 * dt, 0.8 * dt);
        let w = ((speed - 0.1) / 0.4).clamp(0.0, 1.0);
        let w = w * w * (3.0 - 2.0 * w);
        heading += turn * dt * (0.3 + 0.7 * w);
        let cadence = (0.6 + 0.35 * speed).min(1.1);
        phase += std::f32::consts::TAU * cadence * dt * w.max(0.05);
        pos[0] += heading.sin() * speed * dt;
        pos[2] += heading.cos() * speed * dt;

        let mut aa: [[f32; 3]; NUM_JOINTS] = std::array::from_fn(|j| {
            let damp = match j {
                1 | 2 | 4 | 5 | 7 | 8 | 16 | 17 => 1.0 - 0.7 * w,
                _ => 1.0,
            };
            std::array::from_fn(|k| {
                let (lo, hi) = JOINT_LIMITS[j][k];
                let s = &signals[j][k];
                lo + (hi - lo) * sigmoid(s.bias + damp * s.at(t))
            })
        });
        // Gait: left leg forward when sin(phase) > 0.
        let l = phase.sin();
        let swing = |ph: f32| (ph + 0.5).sin().max(0.0).powi(2);
        aa[1][0] += -0.45 * w * l;
        aa[2][0] += 0.45 * w * l;
        aa[4][0] += w * (0.1 + 0.9 * swing(phase));
        aa[5][0] += w * (0.1 + 0.9 * swing(phase + std::f32::consts::PI));
        aa[7][0] += 0.2 * w * (phase - 0.8).sin();
        aa[8][0] += 0.2 * w * (phase + std::f32::consts::PI - 0.8).sin();
        aa[16][1] += 0.35 * w * l;
        aa[17][1] += 0.35 * w * l;
        aa[16][2] += w * (-1.2 - aa[16][2]) * 0.6;
        aa[17][2] += w * (1.2 - aa[17][2]) * 0.6;
        aa[3][0] += 0.05 * w;
        for j in 0..NUM_JOINTS {
            for k in 0..3 {
                let (lo, hi) = JOINT_LIMITS[j][k];
                aa[j][k] = aa[j][k].clamp(lo, hi);
            }
        }
        let mut rot: [Quat; NUM_JOINTS] = aa.map(axis_angle_to_quat);
        rot[0] = quat_normalize(quat_mul(axis_angle_to_quat([0.0, heading, 0.0]), rot[0]));
        // Feet on the floor.
        let p = smpl_fk(&rot, [pos[0], 0.0, pos[2]]);
        let lowest = crate::motion::clip::FOOT_JOINTS.iter().map(|&j| p[j][1]).fold(f32::INFINITY, f32::min);
        out.root.push([pos[0], -lowest, pos[2]]);
        out.rotations.push(rot);
    }
    out.make_continuous();
    out
}

/// Lower-body joints (taken from the first clip when mixing): pelvis, hips, knees, ankles, feet.
pub const LOWER_BODY: [usize; 9] = [0, 1, 2, 4, 5, 7, 8, 10, 11];

/// Mix two clips: root and lower body of `lower`, spine, arms and head of `upper`; as long as
/// the shorter one; feet re-aligned to the floor.
pub fn mix(lower: &Motion, upper: &Motion) -> Motion {
    let n = lower.len().min(upper.len());
    let mut out = Motion { fps: lower.fps, root: lower.root[..n].to_vec(), rotations: lower.rotations[..n].to_vec() };
    for (f, rot) in out.rotations.iter_mut().enumerate() {
        for (j, q) in rot.iter_mut().enumerate() {
            if !LOWER_BODY.contains(&j) {
                *q = upper.rotations[f][j];
            }
        }
    }
    out.align_floor();
    out
}
