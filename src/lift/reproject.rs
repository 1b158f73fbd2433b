//! The 2D reprojection error of lifted motion against the detected COCO-17 keypoints: per block
//! of frames, a weak-perspective camera (scale and 2D shift, least squares) is fitted from the
//! lifted joints' camera-view `(x, y)` (Y up, camera on +Z looking along −Z, so image `u = tx +
//! s·x`, `v = ty − s·y`: image y points down) to the confident detections, and the mean pixel
//! distance is reported, also as a share of the performer's height in the image.
//!
//! The lifted joints compared are the COCO-17 keypoints placed on the lifted SMPL-24 skeleton
//! ([`coco_from_pose`]: COCO hips hang off the pelvis, the limbs are SMPL joints): shoulders,
//! elbows, wrists, hips, knees and ankles ([`REPROJECTION_JOINTS`]), each where its detection
//! has confidence ≥ [`MIN_CONFIDENCE`]. The height is the median, over frames, of the vertical
//! extent of the confident detections. `lift` reports it; `eval` and tools can call
//! [`reproject_motion`] or [`reprojection_error`] on their own joints.
//!
//! Under the first-frame motion contract (checkpoints without a contract) the lifted frame's
//! heading is the first frame's, not the camera's: the error then also holds that heading.
use serde::Serialize;

use crate::motion::{Frame2d, MotionFrame};
use crate::skeleton::coco::{coco_from_pose, NUM_COCO};
use crate::skeleton::rotation::Vec3;

/// COCO-17 keypoints compared: shoulders, elbows, wrists, hips, knees, ankles.
pub const REPROJECTION_JOINTS: [usize; 12] = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
/// Detections below this confidence are left out (of the fit, the error and the height).
pub const MIN_CONFIDENCE: f32 = 0.3;
/// Frames per fitted camera (one model window).
pub const BLOCK_FRAMES: usize = 150;

/// A weak-perspective camera looking along −Z: `u = tx + scale·x`, `v = ty − scale·y` (pixels).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeakPerspective {
    /// Pixels per metre (never negative: the picture is never turned upside down).
    pub scale: f32,
    pub tx: f32,
    pub ty: f32,
}

impl WeakPerspective {
    /// The pixel position of camera-frame point `p`.
    pub fn project(&self, p: Vec3) -> [f32; 2] {
        [self.tx + self.scale * p[0], self.ty - self.scale * p[1]]
    }

    /// The least-squares camera mapping each pair's 3D point onto its pixel position (scale
    /// clamped at 0, the optimum under that constraint). `None` with fewer than 2 pairs or when
    /// the points do not spread (every `(x, y)` the same).
    pub fn fit(pairs: &[(Vec3, [f32; 2])]) -> Option<Self> {
        if pairs.len() < 2 {
            return None;
        }
        // Means of the image-oriented 3D coordinates (x, −y) and of the pixels.
        let n = pairs.len() as f64;
        let (mut mx, mut my, mut mu, mut mv) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for (p, q) in pairs {
            mx += p[0] as f64 / n;
            my -= p[1] as f64 / n;
            mu += q[0] as f64 / n;
            mv += q[1] as f64 / n;
        }
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for (p, q) in pairs {
            let (x, y) = (p[0] as f64 - mx, -p[1] as f64 - my);
            num += x * (q[0] as f64 - mu) + y * (q[1] as f64 - mv);
            den += x * x + y * y;
        }
        if !(den > 1e-12 && num.is_finite()) {
            return None;
        }
        let s = (num / den).max(0.0);
        Some(Self { scale: s as f32, tx: (mu - s * mx) as f32, ty: (mv - s * my) as f32 })
    }
}

/// One block's fit and error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockReprojection {
    /// First frame (index into the sequence) and frame count.
    pub start: usize,
    pub frames: usize,
    /// Joints compared (confident detections).
    pub joints: usize,
    pub camera: WeakPerspective,
    pub mean_px: f64,
    /// The performer's height in the image over the block (median of the frames').
    pub height_px: f64,
    /// `mean_px` as a percentage of `height_px`.
    pub percent_of_height: f64,
}

/// The reprojection error of a sequence (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reprojection {
    /// Mean over every compared joint of every block.
    pub mean_px: f64,
    /// The performer's height in the image over the sequence (median of the frames').
    pub height_px: f64,
    /// `mean_px` as a percentage of `height_px`.
    pub percent_of_height: f64,
    pub joints: usize,
    /// Frames per fitted camera.
    pub block_frames: usize,
    /// Blocks with a camera (a block without 2 confident joints has none and is left out).
    pub blocks: Vec<BlockReprojection>,
}

impl Reprojection {
    /// The camera fitted for frame `i`, when its block has one.
    pub fn camera_at(&self, i: usize) -> Option<WeakPerspective> {
        self.blocks.iter().find(|b| (b.start..b.start + b.frames).contains(&i)).map(|b| b.camera)
    }
}

/// The vertical extent in pixels of the detections with confidence ≥ [`MIN_CONFIDENCE`] (all 17
/// keypoints, so the head counts); `None` with fewer than 2 of them.
pub fn person_height(kp: &Frame2d) -> Option<f32> {
    let ys: Vec<f32> = kp.iter().filter(|p| confident(p)).map(|p| p[1]).collect();
    (ys.len() >= 2).then(|| ys.iter().copied().fold(f32::MIN, f32::max) - ys.iter().copied().fold(f32::MAX, f32::min))
}

fn confident(p: &[f32; 3]) -> bool {
    p[2] >= MIN_CONFIDENCE && p[0].is_finite() && p[1].is_finite()
}

fn median(mut v: Vec<f32>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] as f64 } else { 0.5 * (v[m - 1] as f64 + v[m] as f64) })
}

/// The reprojection error of lifted COCO-17 joints `points` (camera-view metres, one array per
/// frame) against the detections `keypoints` (pixels, same frames), one camera per `block`
/// frames. `None` when no block has 2 confident joints or no frame has a height (the sequences
/// must be of one length; the shorter decides).
pub fn reprojection_error(points: &[[Vec3; NUM_COCO]], keypoints: &[Frame2d], block: usize) -> Option<Reprojection> {
    let n = points.len().min(keypoints.len());
    let block = block.max(1);
    let heights: Vec<Option<f32>> = keypoints[..n].iter().map(person_height).collect();
    let height_px = median(heights.iter().flatten().copied().collect())?;
    let (mut blocks, mut sum, mut count) = (Vec::new(), 0.0f64, 0usize);
    for start in (0..n).step_by(block) {
        let end = (start + block).min(n);
        let pairs: Vec<(Vec3, [f32; 2])> = (start..end)
            .flat_map(|i| REPROJECTION_JOINTS.iter().map(move |&j| (i, j)))
            .filter(|&(i, j)| confident(&keypoints[i][j]) && points[i][j].iter().all(|v| v.is_finite()))
            .map(|(i, j)| (points[i][j], [keypoints[i][j][0], keypoints[i][j][1]]))
            .collect();
        let Some(camera) = WeakPerspective::fit(&pairs) else { continue };
        let err: f64 = pairs
            .iter()
            .map(|(p, q)| {
                let [u, v] = camera.project(*p);
                ((u - q[0]) as f64).hypot((v - q[1]) as f64)
            })
            .sum();
        let mean_px = err / pairs.len() as f64;
        let h = median(heights[start..end].iter().flatten().copied().collect()).unwrap_or(height_px);
        let percent_of_height = 100.0 * mean_px / h.max(1e-9);
        blocks.push(BlockReprojection {
            start,
            frames: end - start,
            joints: pairs.len(),
            camera,
            mean_px,
            height_px: h,
            percent_of_height,
        });
        sum += err;
        count += pairs.len();
    }
    if count == 0 {
        return None;
    }
    let mean_px = sum / count as f64;
    let percent_of_height = 100.0 * mean_px / height_px.max(1e-9);
    Some(Reprojection { mean_px, height_px, percent_of_height, joints: count, block_frames: block, blocks })
}

/// The COCO-17 keypoints placed on each lifted frame's skeleton (forward kinematics).
pub fn lifted_coco(frames: &[MotionFrame]) -> Vec<[Vec3; NUM_COCO]> {
    frames.iter().map(|f| coco_from_pose(&f.rotations, f.root)).collect()
}

/// [`reprojection_error`] of lifted `frames` against `keypoints` (one per frame), one camera per
/// [`BLOCK_FRAMES`] frames.
pub fn reproject_motion(frames: &[MotionFrame], keypoints: &[Frame2d]) -> Option<Reprojection> {
    reprojection_error(&lifted_coco(frames), keypoints, BLOCK_FRAMES)
}
