//! 2D training conditions: random virtual cameras around the subject and a detector-like noise
//! model (Gaussian jitter scaled by the person's pixel height, dropped keypoints, left/right
//! swaps, outliers) applied to projected COCO-17 keypoints.

use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::camera::PinholeCamera;
use crate::skeleton::coco::NUM_COCO;
use crate::skeleton::rotation::Vec3;

/// Image size the virtual cameras render to.
pub const IMAGE_W: f32 = 1280.0;
pub const IMAGE_H: f32 = 720.0;

/// A camera `2.5..6` m away at a random azimuth, `-5..25` degrees above the target, horizontal
/// field of view `40..70` degrees, looking at `target` (jittered by up to 0.2 m).
pub fn random_camera(rng: &mut impl Rng, target: Vec3) -> PinholeCamera {
    let dist = rng.random_range(2.5f32..6.0);
    let az = rng.random_range(0.0f32..std::f32::consts::TAU);
    let el = rng.random_range(-5.0f32..25.0).to_radians();
    let fov = rng.random_range(40.0f32..70.0).to_radians();
    let f = IMAGE_W * 0.5 / (fov * 0.5).tan();
    let t = [target[0] + rng.random_range(-0.2..0.2), target[1] + rng.random_range(-0.2..0.2), target[2] + rng.random_range(-0.2..0.2)];
    let eye = [t[0] + dist * el.cos() * az.sin(), t[1] + dist * el.sin(), t[2] + dist * el.cos() * az.cos()];
    PinholeCamera::look_at(f, f, IMAGE_W * 0.5, IMAGE_H * 0.5, eye, t, [0.0, 1.0, 0.0])
}

/// Detector-like noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseModel {
    /// Gaussian sigma as a fraction of the person's pixel height.
    pub sigma: f32,
    /// Probability a keypoint is dropped (score 0).
    pub dropout: f32,
    /// Probability per frame that one left/right pair is swapped.
    pub swap: f32,
    /// Probability a keypoint lands anywhere within the person's box.
    pub outlier: f32,
}

impl Default for NoiseModel {
    fn default() -> Self {
        NoiseModel { sigma: 0.01, dropout: 0.03, swap: 0.02, outlier: 0.005 }
    }
}

impl NoiseModel {
    /// No noise at all.
    pub fn none() -> Self {
        NoiseModel { sigma: 0.0, dropout: 0.0, swap: 0.0, outlier: 0.0 }
    }
}

/// COCO left/right pairs.
const COCO_PAIRS: [(usize, usize); 8] = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)];

/// Project COCO-17 points and add noise: `(u, v, score)` per keypoint in pixels. Points
/// behind the camera come out dropped (`0, 0, 0`).
pub fn keypoints_2d(cam: &PinholeCamera, coco: &[Vec3; NUM_COCO], noise: &NoiseModel, rng: &mut impl Rng) -> [[f32; 3]; NUM_COCO] {
    let proj = coco.map(|p| cam.project(p));
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in proj.iter().flatten() {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let height = (hi[1] - lo[1]).max(1.0);
    let normal = Normal::new(0.0f32, (noise.sigma * height).max(0.0)).ok();
    let mut out = proj.map(|p| match p {
        Some([u, v]) => {
            let (du, dv) = match &normal {
                Some(n) if noise.sigma > 0.0 => (n.sample(rng), n.sample(rng)),
                _ => (0.0, 0.0),
            };
            [u + du, v + dv, 1.0]
        }
        None => [0.0, 0.0, 0.0],
    });
    if noise.swap > 0.0 && rng.random::<f32>() < noise.swap {
        let (a, b) = COCO_PAIRS[rng.random_range(0..COCO_PAIRS.len())];
        out.swap(a, b);
    }
    for k in out.iter_mut() {
        if k[2] == 0.0 {
            continue;
        }
        if noise.outlier > 0.0 && rng.random::<f32>() < noise.outlier && hi[0] > lo[0] {
            *k = [rng.random_range(lo[0]..=hi[0]), rng.random_range(lo[1]..=lo[1] + height), 0.3];
        }
        if noise.dropout > 0.0 && rng.random::<f32>() < noise.dropout {
            *k = [0.0, 0.0, 0.0];
        }
    }
    out
}
