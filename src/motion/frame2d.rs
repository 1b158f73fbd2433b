//! `Frame2d` (one frame of COCO-17 pixel keypoints) and the window normalisation the model sees,
//! identical at training (`mocapd data build`) and at inference (`lift`, the daemon).
//!
//! # Normalisation (reproducible at inference from keypoints alone)
//! [`normalize_sequence`] takes a window of COCO-17 `(u, v, score)` pixel keypoints (image y
//! down) and returns, per keypoint, `((u - cx) / s, (v - cy) / s, score)`:
//! - a keypoint counts as present when `score >= NORM_MIN_SCORE` (0.2); absent ones become
//!   `(0, 0, 0)`;
//! - `(cx, cy)` is the frame's COCO hip midpoint (keypoints 11, 12) when both hips are present;
//!   otherwise linearly interpolated from the nearest frames that have it (held at the ends);
//!   when no frame has both hips, the mean of the frame's present keypoints (held from the
//!   nearest frame when none);
//! - `s` (one per window), under the [`Contract`]:
//!   - first-frame (version 1): the median over frames of the torso length
//!     `|mid(shoulders 5, 6) - mid(hips 11, 12)|` over frames with all four present. A torso
//!     seen end-on (bending over, crouching towards the camera) shrinks it, and the normalised
//!     pose blows up to 2-3 times its usual size;
//!   - gravity-view (version 2): the largest of the per-segment estimates of the torso length:
//!     for each segment (torso, shoulder and hip width, upper arms, forearms, thighs, shins),
//!     the median over frames of its length divided by its length in torso units on the SMPL
//!     mean body ([`SEGMENTS`]). Foreshortening only shortens a segment, so the largest estimate
//!     is the one least foreshortened; medians over the window keep detector outliers out;
//!   - either way, when no segment is seen: `0.35 *` the median of the larger side of the
//!     present keypoints' bounding box; 1 when nothing is present.
//!
//! The daemon applies it to each 150-frame window it feeds the model.

use super::contract::Contract;
use crate::skeleton::coco::NUM_COCO;

/// COCO segments of the gravity-view scale and their length in torso units on the SMPL mean
/// body in its rest pose (measured by the test `segment_ratios_match_the_smpl_mean_body`).
/// `(a, b)`: keypoints; `(a, b, c, d)` with `c, d` set: the torso, from mid(a, b) to mid(c, d).
pub const SEGMENTS: [((usize, usize, usize, usize), f32); 11] = [
    ((5, 6, 11, 12), 1.0),
    ((5, 6, NONE, NONE), 0.616),
    ((11, 12, NONE, NONE), 0.372),
    ((5, 7, NONE, NONE), 0.461),
    ((6, 8, NONE, NONE), 0.451),
    ((7, 9, NONE, NONE), 0.442),
    ((8, 10, NONE, NONE), 0.453),
    ((11, 13, NONE, NONE), 0.624),
    ((12, 14, NONE, NONE), 0.635),
    ((13, 15, NONE, NONE), 0.706),
    ((14, 16, NONE, NONE), 0.707),
];
/// "No keypoint" in [`SEGMENTS`].
const NONE: usize = usize::MAX;

/// Keypoints of one frame: `(u, v, score)`.
pub type Frame2d = [[f32; 3]; NUM_COCO];

/// Score below which a keypoint is treated as absent by the normalisation.
pub const NORM_MIN_SCORE: f32 = 0.2;

fn present(p: &[f32; 3]) -> bool {
    p[2] >= NORM_MIN_SCORE && p[0].is_finite() && p[1].is_finite()
}

fn mid(a: &[f32; 3], b: &[f32; 3]) -> [f32; 2] {
    [0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])]
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

/// The window's normalisation under `contract`: per-frame centre and one scale (see the module
/// docs).
pub fn normalization(frames: &[Frame2d], contract: Contract) -> (Vec<[f32; 2]>, f32) {
    let n = frames.len();
    let hips: Vec<Option<[f32; 2]>> = frames.iter().map(|k| (present(&k[11]) && present(&k[12])).then(|| mid(&k[11], &k[12]))).collect();
    let fallback: Vec<Option<[f32; 2]>> = frames
        .iter()
        .map(|k| {
            let p: Vec<&[f32; 3]> = k.iter().filter(|p| present(p)).collect();
            (!p.is_empty()).then(|| {
                let c = p.len() as f32;
                [p.iter().map(|q| q[0]).sum::<f32>() / c, p.iter().map(|q| q[1]).sum::<f32>() / c]
            })
        })
        .collect();
    let base = if hips.iter().any(|h| h.is_some()) { hips } else { fallback };
    let known: Vec<usize> = (0..n).filter(|&i| base[i].is_some()).collect();
    let centres = (0..n)
        .map(|i| {
            if let Some(c) = base[i] {
                return c;
            }
            let prev = known.iter().rev().find(|&&k| k < i).copied();
            let next = known.iter().find(|&&k| k > i).copied();
            match (prev, next) {
                (Some(a), Some(b)) => {
                    let (ca, cb) = (base[a].unwrap_or([0.0; 2]), base[b].unwrap_or([0.0; 2]));
                    let t = (i - a) as f32 / (b - a) as f32;
                    [ca[0] + t * (cb[0] - ca[0]), ca[1] + t * (cb[1] - ca[1])]
                }
                (Some(a), None) => base[a].unwrap_or([0.0; 2]),
                (None, Some(b)) => base[b].unwrap_or([0.0; 2]),
                (None, None) => [0.0; 2],
            }
        })
        .collect();
    let segments = match contract {
        Contract::FirstFrame => &SEGMENTS[..1],
        Contract::GravityView => &SEGMENTS[..],
    };
    let scale = segments
        .iter()
        .filter_map(|&(seg, ratio)| median(segment_lengths(frames, seg)).map(|l| l / ratio))
        .fold(None, |best: Option<f32>, s| Some(best.map_or(s, |b| b.max(s))));
    let scale = scale.or_else(|| {
        let sides: Vec<f32> = frames
            .iter()
            .filter_map(|k| {
                let p: Vec<&[f32; 3]> = k.iter().filter(|p| present(p)).collect();
                if p.len() < 2 {
                    return None;
                }
                let ext = |c: usize| {
                    let lo = p.iter().map(|q| q[c]).fold(f32::MAX, f32::min);
                    let hi = p.iter().map(|q| q[c]).fold(f32::MIN, f32::max);
                    hi - lo
                };
                Some(ext(0).max(ext(1)))
            })
            .filter(|d| *d > 1e-6)
            .collect();
        median(sides).map(|s| 0.35 * s)
    });
    (centres, scale.unwrap_or(1.0))
}

/// Lengths of one [`SEGMENTS`] segment in the frames where its keypoints are present.
fn segment_lengths(frames: &[Frame2d], (a, b, c, d): (usize, usize, usize, usize)) -> Vec<f32> {
    frames
        .iter()
        .filter_map(|k| {
            let (p, q) = if c == NONE {
                (present(&k[a]) && present(&k[b])).then(|| ([k[a][0], k[a][1]], [k[b][0], k[b][1]]))?
            } else {
                [a, b, c, d].iter().all(|&j| present(&k[j])).then(|| (mid(&k[a], &k[b]), mid(&k[c], &k[d])))?
            };
            let l = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
            (l > 1e-6).then_some(l)
        })
        .collect()
}

/// Root-centre and scale-normalise a window of keypoints under `contract` (see the module docs).
pub fn normalize_sequence(frames: &[Frame2d], contract: Contract) -> Vec<Frame2d> {
    let (centres, s) = normalization(frames, contract);
    frames
        .iter()
        .zip(&centres)
        .map(|(k, c)| k.map(|p| if present(&p) { [(p[0] - c[0]) / s, (p[1] - c[1]) / s, p[2]] } else { [0.0; 3] }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::coco::coco_from_pose;
    use crate::skeleton::rotation::{axis_angle_to_quat, QUAT_IDENTITY};

    /// A frontal orthographic view (x right, y down) of the posed body, 400 px per metre.
    fn view(local: &[crate::skeleton::Quat; 24]) -> Frame2d {
        coco_from_pose(local, [0.0, 0.9, 0.0]).map(|p| [640.0 + 400.0 * p[0], 700.0 - 400.0 * p[1], 0.9])
    }

    #[test]
    fn segment_ratios_match_the_smpl_mean_body() {
        let rest = view(&[QUAT_IDENTITY; 24]);
        let torso = median(segment_lengths(&[rest], SEGMENTS[0].0)).expect("torso");
        let measured: Vec<f32> = SEGMENTS.iter().map(|&(seg, _)| median(segment_lengths(&[rest], seg)).expect("segment") / torso).collect();
        for (&(seg, ratio), l) in SEGMENTS.iter().zip(&measured) {
            assert!((l - ratio).abs() < 0.01, "segment {seg:?}: {l:.3} torso lengths, table says {ratio} (all: {measured:.3?})");
        }
    }

    /// Bending over towards the camera (pelvis pitched forward, back rounded, knees and hips
    /// flexed: a deep crouch seen from the front) foreshortens the torso. The version-2 scale stays within
    /// 15 % of the standing one, the version-1 (median torso) scale collapses.
    #[test]
    fn the_gravity_view_scale_survives_a_crouch() {
        let stand = vec![view(&[QUAT_IDENTITY; 24]); 30];
        let mut crouch_pose = [QUAT_IDENTITY; 24];
        crouch_pose[0] = axis_angle_to_quat([1.25, 0.0, 0.0]); // bent over at the hips, ~72°
        for j in [3, 6, 9] {
            crouch_pose[j] = axis_angle_to_quat([0.1, 0.0, 0.0]); // and a rounded back
        }
        for j in [1, 2] {
            crouch_pose[j] = axis_angle_to_quat([-1.25 - 0.9, 0.0, 0.0]); // thighs forward of vertical
        }
        for j in [4, 5] {
            crouch_pose[j] = axis_angle_to_quat([1.8, 0.0, 0.0]); // knees bent
        }
        let crouch = vec![view(&crouch_pose); 30];
        let (_, s1_stand) = normalization(&stand, Contract::FirstFrame);
        let (_, s1_crouch) = normalization(&crouch, Contract::FirstFrame);
        let (_, s2_stand) = normalization(&stand, Contract::GravityView);
        let (_, s2_crouch) = normalization(&crouch, Contract::GravityView);
        assert!((s2_crouch / s2_stand - 1.0).abs() < 0.15, "gravity-view: crouch {s2_crouch} vs stand {s2_stand}");
        assert!(s1_crouch / s1_stand < 0.6, "first-frame: crouch {s1_crouch} vs stand {s1_stand}");
        // The normalised crouch stays the size of a normal pose (training 95th percentile 0.88).
        let big = |c: Contract| normalize_sequence(&crouch, c).iter().flatten().map(|p| p[0].abs().max(p[1].abs())).fold(0.0f32, f32::max);
        assert!(big(Contract::GravityView) < 1.5, "gravity-view crouch reaches {}", big(Contract::GravityView));
        assert!(big(Contract::FirstFrame) > 2.0, "first-frame crouch reaches {}", big(Contract::FirstFrame));
    }
}
