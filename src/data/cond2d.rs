//! 2D training conditions for whole clips: moving virtual cameras and a detector-like noise
//! model with temporal structure. The normalisation the model sees is the motion contract's
//! [`crate::motion::frame2d::normalize_sequence`], shared with inference.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

use super::camera::PinholeCamera;
use crate::motion::frame2d::Frame2d;
use crate::skeleton::coco::NUM_COCO;
use crate::skeleton::rotation::{cross, mat_vec, normalize, sub, Vec3};

/// Random camera ranges.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CameraRanges {
    /// Elevation of the camera above the subject's mid-height, degrees.
    pub pitch_deg: (f32, f32),
    /// Horizontal field of view, degrees.
    pub fov_deg: (f32, f32),
    /// Roll, degrees (either way).
    pub roll_deg: f32,
    /// Person's height as a fraction of the image height (sets the distance).
    pub fill: (f32, f32),
    /// Orbit speed, degrees per second (either way).
    pub orbit_deg_s: f32,
    /// Relative distance change over a clip (either way), e.g. 0.15 = dolly by up to 15 %.
    pub dolly: f32,
    /// Share of cameras that stand still (no orbit, no dolly), like a webcam on a monitor.
    #[serde(default)]
    pub static_share: f32,
}

impl Default for CameraRanges {
    fn default() -> Self {
        CameraRanges {
            pitch_deg: (-10.0, 40.0),
            fov_deg: (35.0, 75.0),
            roll_deg: 6.0,
            fill: (0.3, 1.0),
            orbit_deg_s: 8.0,
            dolly: 0.15,
            static_share: 0.5,
        }
    }
}

/// One clip's camera: parameters at t = 0 and its slow motion.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CameraPath {
    pub width: f32,
    pub height: f32,
    pub focal: f32,
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
    pub distance: f32,
    pub yaw_rate: f32,
    /// Distance change per second, relative.
    pub dolly_rate: f32,
    pub aim_height: f32,
}

/// Image sizes the virtual cameras use (landscape 720p/1080p, portrait phone).
pub const IMAGE_SIZES: [(f32, f32); 3] = [(1280.0, 720.0), (1920.0, 1080.0), (1080.0, 1920.0)];

impl CameraPath {
    /// A random camera (yaw all around).
    pub fn random(r: &CameraRanges, clip_seconds: f32, rng: &mut impl Rng) -> CameraPath {
        let (width, height) = IMAGE_SIZES[[0, 0, 1, 1, 2][rng.random_range(0..5)]];
        let fov = rng.random_range(r.fov_deg.0..=r.fov_deg.1).to_radians();
        let focal = width * 0.5 / (fov * 0.5).tan();
        let fill = rng.random_range(r.fill.0..=r.fill.1);
        let distance = (1.7 * focal / (fill * height)).max(1.2);
        let moving = rng.random::<f32>() >= r.static_share;
        let dolly = if moving { rng.random_range(-r.dolly..=r.dolly) } else { 0.0 };
        CameraPath {
            width,
            height,
            focal,
            yaw: rng.random_range(0.0..std::f32::consts::TAU),
            pitch: rng.random_range(r.pitch_deg.0..=r.pitch_deg.1).to_radians(),
            roll: rng.random_range(-r.roll_deg..=r.roll_deg).to_radians(),
            distance,
            yaw_rate: if moving { rng.random_range(-r.orbit_deg_s..=r.orbit_deg_s).to_radians() } else { 0.0 },
            dolly_rate: dolly / clip_seconds.max(1e-3),
            aim_height: rng.random_range(0.7..1.1),
        }
    }

    /// The camera at time `t` looking at `target` (a smoothed root position on the floor).
    pub fn camera(&self, t: f32, target: Vec3) -> PinholeCamera {
        let yaw = self.yaw + self.yaw_rate * t;
        let d = self.distance * (1.0 + self.dolly_rate * t);
        let aim = [target[0], self.aim_height, target[2]];
        let eye = [aim[0] + d * self.pitch.cos() * yaw.sin(), aim[1] + d * self.pitch.sin(), aim[2] + d * self.pitch.cos() * yaw.cos()];
        let z = normalize(sub(aim, eye));
        let x = normalize(cross(z, [0.0, 1.0, 0.0]));
        let y = cross(z, x);
        let (s, c) = self.roll.sin_cos();
        let xr = std::array::from_fn(|k| c * x[k] + s * y[k]);
        let yr = std::array::from_fn(|k| -s * x[k] + c * y[k]);
        let rotation = [xr, yr, z];
        let te = mat_vec(&rotation, eye);
        PinholeCamera {
            fx: self.focal,
            fy: self.focal,
            cx: self.width * 0.5,
            cy: self.height * 0.5,
            rotation,
            translation: [-te[0], -te[1], -te[2]],
        }
    }
}

/// Smoothed root path on the floor (forward-backward exponential smoothing, time constant 1 s):
/// what a camera operator would follow.
pub fn follow_path(root: &[Vec3], fps: f32) -> Vec<Vec3> {
    let a = 1.0 - (-1.0 / fps.max(1.0)).exp();
    let mut out: Vec<Vec3> = root.iter().map(|r| [r[0], 0.0, r[2]]).collect();
    for i in 1..out.len() {
        for k in [0, 2] {
            out[i][k] = out[i - 1][k] + a * (out[i][k] - out[i - 1][k]);
        }
    }
    for i in (0..out.len().saturating_sub(1)).rev() {
        for k in [0, 2] {
            out[i][k] = out[i + 1][k] + a * (out[i][k] - out[i + 1][k]);
        }
    }
    out
}

/// Detector-like noise on a whole clip. Rates are per keypoint per frame unless noted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectorNoise {
    /// Gaussian sigma as a fraction of the person's pixel height (times a per-joint factor:
    /// face 0.6, torso 1, elbows/knees 1.3, wrists/ankles 1.7).
    pub sigma: f32,
    /// Frame-to-frame correlation of the jitter (AR(1)).
    pub correlation: f32,
    /// Probability a keypoint is dropped (score 0).
    pub dropout: f32,
    /// Occlusion bursts per second (a limb or the face at low confidence, larger error,
    /// partly dropped, for 0.2..1.5 s).
    pub occlusion_rate: f32,
    /// Left/right swap events per second (one pair, or the whole body 30 % of the time, for
    /// 1..6 frames).
    pub swap_rate: f32,
    /// Probability a keypoint is an outlier anywhere in the person's box.
    pub outlier: f32,
    /// Keypoints outside the image are dropped (truncation).
    pub truncate: bool,
}

impl Default for DetectorNoise {
    fn default() -> Self {
        DetectorNoise {
            sigma: 0.012,
            correlation: 0.6,
            dropout: 0.02,
            occlusion_rate: 0.15,
            swap_rate: 0.08,
            outlier: 0.003,
            truncate: true,
        }
    }
}

impl DetectorNoise {
    /// Projection only (still truncated at the image border).
    pub fn none() -> Self {
        DetectorNoise { sigma: 0.0, correlation: 0.0, dropout: 0.0, occlusion_rate: 0.0, swap_rate: 0.0, outlier: 0.0, truncate: true }
    }
}

const JOINT_SIGMA: [f32; NUM_COCO] = [0.6, 0.6, 0.6, 0.7, 0.7, 1.0, 1.0, 1.3, 1.3, 1.7, 1.7, 1.0, 1.0, 1.3, 1.3, 1.7, 1.7];
const COCO_PAIRS: [(usize, usize); 8] = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)];
const GROUPS: [&[usize]; 5] = [&[5, 7, 9], &[6, 8, 10], &[11, 13, 15], &[12, 14, 16], &[0, 1, 2, 3, 4]];

/// Project a clip's COCO-17 points (`coco[f]`, world metres) through the camera path and add
/// detector noise: pixel `(u, v, score)` per keypoint; dropped or truncated points are `(0,0,0)`.
pub fn project_clip(
    path: &CameraPath,
    coco: &[[Vec3; NUM_COCO]],
    follow: &[Vec3],
    fps: f32,
    noise: &DetectorNoise,
    rng: &mut impl Rng,
) -> Vec<Frame2d> {
    let n = coco.len();
    if n == 0 {
        return Vec::new();
    }
    let std_normal = Normal::new(0.0f32, 1.0).expect("unit normal");
    let mut noise_rng = rand::rngs::StdRng::seed_from_u64(rng.random());
    // Plan occlusion bursts and swaps up front.
    let mut occluded = vec![[false; NUM_COCO]; n];
    let mut swaps: Vec<Option<usize>> = vec![None; n]; // pair index, 8 = whole body
    let secs = n as f32 / fps;
    // Poisson-like counts by thinning over 0.1 s steps.
    let draws = |rate: f32, r: &mut rand::rngs::StdRng| -> usize {
        let steps = (secs * 10.0).ceil() as usize;
        (0..steps).filter(|_| r.random::<f32>() < rate * 0.1).count()
    };
    let bursts = draws(noise.occlusion_rate, &mut noise_rng);
    for _ in 0..bursts {
        let start = noise_rng.random_range(0..n.max(1));
        let len = (noise_rng.random_range(0.2..1.5f32) * fps) as usize;
        let group: Vec<usize> = if noise_rng.random::<f32>() < 0.8 {
            GROUPS[noise_rng.random_range(0..GROUPS.len())].to_vec()
        } else {
            vec![noise_rng.random_range(0..NUM_COCO)]
        };
        for frame in occluded.iter_mut().take((start + len).min(n)).skip(start) {
            for &k in &group {
                frame[k] = true;
            }
        }
    }
    let swap_events = draws(noise.swap_rate, &mut noise_rng);
    for _ in 0..swap_events {
        let start = noise_rng.random_range(0..n.max(1));
        let len = noise_rng.random_range(1..=6);
        let which = if noise_rng.random::<f32>() < 0.3 { 8 } else { noise_rng.random_range(0..8) };
        for s in swaps.iter_mut().skip(start).take(len) {
            *s = Some(which);
        }
    }
    let rho = noise.correlation.clamp(0.0, 0.99);
    let innov = (1.0 - rho * rho).sqrt();
    let mut err = [[0.0f32; 2]; NUM_COCO];
    let mut out = Vec::with_capacity(n);
    for f in 0..n {
        let cam = path.camera(f as f32 / fps, follow[f.min(follow.len() - 1)]);
        let proj = coco[f].map(|p| cam.project(p));
        let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
        for p in proj.iter().flatten() {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let height = (hi[1] - lo[1]).max(hi[0] - lo[0]).max(1.0);
        let mut kp = [[0.0f32; 3]; NUM_COCO];
        for k in 0..NUM_COCO {
            let sig = noise.sigma * height * JOINT_SIGMA[k];
            for e in &mut err[k] {
                *e = if f == 0 { std_normal.sample(&mut noise_rng) } else { rho * *e + innov * std_normal.sample(&mut noise_rng) };
            }
            let Some([u, v]) = proj[k] else { continue };
            let occ = occluded[f][k];
            let extra = if occ { 3.0 } else { 1.0 };
            let (du, dv) = (err[k][0] * sig * extra, err[k][1] * sig * extra);
            let mut score = (0.9 - 0.08 * (err[k][0].abs() + err[k][1].abs()) + 0.05 * std_normal.sample(&mut noise_rng)).clamp(0.3, 1.0);
            if noise.sigma == 0.0 {
                score = 1.0;
            }
            if occ {
                score = noise_rng.random_range(0.05..0.35);
                if noise_rng.random::<f32>() < 0.5 {
                    continue;
                }
            }
            kp[k] = [u + du, v + dv, score];
            if noise.outlier > 0.0 && noise_rng.random::<f32>() < noise.outlier && hi[0] > lo[0] {
                kp[k] = [noise_rng.random_range(lo[0]..=hi[0]), noise_rng.random_range(lo[1]..=lo[1] + height), 0.3];
            }
            if noise.dropout > 0.0 && noise_rng.random::<f32>() < noise.dropout {
                kp[k] = [0.0; 3];
            }
        }
        match swaps[f] {
            Some(8) => {
                for (a, b) in COCO_PAIRS {
                    kp.swap(a, b);
                }
            }
            Some(i) => kp.swap(COCO_PAIRS[i].0, COCO_PAIRS[i].1),
            None => {}
        }
        if noise.truncate {
            for p in &mut kp {
                if p[2] > 0.0 && !(p[0] >= 0.0 && p[0] < path.width && p[1] >= 0.0 && p[1] < path.height) {
                    *p = [0.0; 3];
                }
            }
        }
        out.push(kp);
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// 2000 random cameras stay in their ranges and cover them: landscape and portrait images,
    /// webcam to phone fields of view, both pitch signs, static and moving cameras, headings all
    /// around; and the camera really sits at its heading (what the gravity-view target assumes).
    #[test]
    fn random_cameras_cover_their_ranges() {
        let r = CameraRanges::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let cams: Vec<CameraPath> = (0..2000).map(|_| CameraPath::random(&r, 5.0, &mut rng)).collect();
        let fov = |c: &CameraPath| (2.0 * (c.width * 0.5 / c.focal).atan()).to_degrees();
        for c in &cams {
            assert!(IMAGE_SIZES.contains(&(c.width, c.height)));
            assert!((r.fov_deg.0 - 0.01..=r.fov_deg.1 + 0.01).contains(&fov(c)), "fov {}", fov(c));
            assert!((r.pitch_deg.0 - 0.01..=r.pitch_deg.1 + 0.01).contains(&c.pitch.to_degrees()));
            assert!(c.roll.to_degrees().abs() <= r.roll_deg + 0.01);
            assert!(c.yaw_rate.to_degrees().abs() <= r.orbit_deg_s + 0.01 && c.distance >= 1.2);
        }
        let share = |f: &dyn Fn(&CameraPath) -> bool| cams.iter().filter(|c| f(c)).count() as f32 / cams.len() as f32;
        assert!((share(&|c| c.height > c.width) - 0.2).abs() < 0.05, "portrait share");
        assert!((share(&|c| c.yaw_rate == 0.0 && c.dolly_rate == 0.0) - r.static_share).abs() < 0.05, "static share");
        assert!(share(&|c| fov(c) < 45.0) > 0.1 && share(&|c| fov(c) > 65.0) > 0.1, "fields of view");
        assert!(share(&|c| c.pitch < 0.0) > 0.1 && share(&|c| c.yaw > std::f32::consts::PI) > 0.4, "pitch and heading");
        // The camera at t = 0 stands at heading `yaw` from its target: (sin yaw, ., cos yaw).
        let c = &cams[0];
        let cam = c.camera(0.0, [0.0; 3]);
        let centre = crate::skeleton::rotation::mat_vec(&crate::skeleton::rotation::mat_transpose(&cam.rotation), cam.translation);
        let eye = [-centre[0], -centre[1], -centre[2]];
        let h = (eye[0].powi(2) + eye[2].powi(2)).sqrt();
        assert!((eye[0] / h - c.yaw.sin()).abs() < 1e-4 && (eye[2] / h - c.yaw.cos()).abs() < 1e-4, "eye {eye:?} yaw {}", c.yaw);
    }
}
