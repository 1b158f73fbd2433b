//! Random body proportions for the 2D projection of training windows: every view of a window is
//! seen on a body of its own (per-bone length scales, left and right kept symmetric, and an
//! overall height), while the training target stays on the SMPL-24 mean skeleton, so the model
//! learns rotations that do not depend on the performer's proportions.
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::skeleton::coco::{coco_from_pose_scaled, NUM_COCO};
use crate::skeleton::rotation::{Quat, Vec3};
use crate::skeleton::smpl::{self, LEFT_RIGHT, NUM_JOINTS};

/// Ranges of the random proportions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BodyRanges {
    /// Relative spread of each limb bone (upper arm, forearm, hand, thigh, shin, foot, clavicle),
    /// drawn uniformly in `1 ± limbs`.
    pub limbs: f32,
    /// Relative spread of each trunk bone (pelvis width, spine segments, neck, head).
    pub trunk: f32,
    /// Standing height, metres (the SMPL mean body is [`mean_height`] tall).
    pub height_m: (f32, f32),
}

impl Default for BodyRanges {
    fn default() -> Self {
        BodyRanges { limbs: 0.15, trunk: 0.10, height_m: (1.45, 1.95) }
    }
}

/// SMPL joints whose offset from their parent is a trunk bone; every other non-root joint is a limb.
const TRUNK: [usize; 9] = [1, 2, 3, 6, 9, 12, 13, 14, 15];
/// SMPL joints whose offsets make up the leg (thigh, shin).
const LEG: [usize; 2] = [4, 7];

/// One body: a length scale per SMPL bone (the offset of joint `j` from its parent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BodyShape {
    pub bone_scale: [f32; NUM_JOINTS],
}

/// Height of the SMPL mean body in its rest pose, metres ([`BodyShape::height`]).
pub fn mean_height() -> f32 {
    BodyShape::mean().height()
}

impl BodyShape {
    /// The SMPL mean body.
    pub fn mean() -> Self {
        BodyShape { bone_scale: [1.0; NUM_JOINTS] }
    }

    /// A random body within `r`: each bone (left and right alike) draws its own scale, then all
    /// are scaled to a height drawn from `r.height_m`.
    pub fn random(r: &BodyRanges, rng: &mut impl Rng) -> Self {
        let mut s = [1.0f32; NUM_JOINTS];
        for (j, v) in s.iter_mut().enumerate().skip(1) {
            let spread = if TRUNK.contains(&j) { r.trunk } else { r.limbs };
            *v = 1.0 + rng.random_range(-spread..=spread);
        }
        for &(l, rr) in &LEFT_RIGHT {
            s[rr] = s[l];
        }
        s[2] = s[1];
        let shape = BodyShape { bone_scale: s };
        let target = rng.random_range(r.height_m.0..=r.height_m.1);
        let k = target / shape.height();
        BodyShape { bone_scale: s.map(|v| v * k) }
    }

    /// Standing height of this body in the rest pose, metres: the head joint plus 0.1 m (to the
    /// crown) over the left ankle plus 0.05 m (to the sole).
    pub fn height(&self) -> f32 {
        let rest = smpl::rest_offsets();
        let chain = |mut j: usize| {
            let mut y = 0.0;
            while let Some(p) = smpl::parent(j) {
                y += rest[j][1] * self.bone_scale[j];
                j = p;
            }
            y
        };
        chain(15) + 0.1 * self.bone_scale[15] - chain(7) + 0.05
    }

    /// How much longer than the mean body's this body's leg is (thigh + shin): the factor that
    /// scales the pelvis trajectory, so the feet stay near the floor and strides fit the legs.
    pub fn leg_scale(&self) -> f32 {
        let rest = smpl::rest_offsets();
        let len = |j: usize| crate::skeleton::rotation::norm(rest[j]);
        let mean: f32 = LEG.iter().map(|&j| len(j)).sum();
        LEG.iter().map(|&j| len(j) * self.bone_scale[j]).sum::<f32>() / mean
    }

    /// COCO-17 keypoints of this body in the pose `local` with the mean body's pelvis at `root`
    /// (the pelvis trajectory is scaled by [`Self::leg_scale`]).
    pub fn coco(&self, local: &[Quat; NUM_JOINTS], root: Vec3) -> [Vec3; NUM_COCO] {
        let k = self.leg_scale();
        coco_from_pose_scaled(local, root.map(|v| v * k), &self.bone_scale)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn random_bodies_stay_in_their_ranges_and_are_symmetric() {
        let r = BodyRanges::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let (mut lo, mut hi) = (f32::MAX, f32::MIN);
        for _ in 0..500 {
            let b = BodyShape::random(&r, &mut rng);
            let h = b.height();
            assert!((r.height_m.0 - 1e-3..=r.height_m.1 + 1e-3).contains(&h), "height {h}");
            lo = lo.min(h);
            hi = hi.max(h);
            for &(l, rr) in &LEFT_RIGHT {
                assert_eq!(b.bone_scale[l], b.bone_scale[rr]);
            }
            // Relative to the overall scale, every bone stays within its spread.
            let k = h / BodyShape::mean().height();
            for j in 1..NUM_JOINTS {
                let spread = if TRUNK.contains(&j) { r.trunk } else { r.limbs };
                let rel = b.bone_scale[j] / k;
                assert!(rel > (1.0 - spread) * 0.8 && rel < (1.0 + spread) * 1.25, "bone {j}: {rel}");
            }
        }
        assert!(lo < 1.5 && hi > 1.9, "heights {lo}..{hi} should cover the range");
        assert!((1.5..1.9).contains(&mean_height()), "SMPL mean body {} m", mean_height());
    }
}
