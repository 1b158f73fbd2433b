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
//! - `s` (one per window) is the median over frames of the torso length
//!   `|mid(shoulders 5, 6) - mid(hips 11, 12)|` over frames with all four present; when no frame
//!   has them, `0.35 *` the median of the larger side of the present keypoints' bounding box;
//!   1 when nothing is present.
//!
//! The daemon applies it to each 150-frame window it feeds the model.

use crate::skeleton::coco::NUM_COCO;

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

/// The window's normalisation: per-frame centre and one scale (see the module docs).
pub fn normalization(frames: &[Frame2d]) -> (Vec<[f32; 2]>, f32) {
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
    let torso: Vec<f32> = frames
        .iter()
        .filter(|k| [5, 6, 11, 12].iter().all(|&j| present(&k[j])))
        .map(|k| {
            let (s, h) = (mid(&k[5], &k[6]), mid(&k[11], &k[12]));
            ((s[0] - h[0]).powi(2) + (s[1] - h[1]).powi(2)).sqrt()
        })
        .filter(|d| *d > 1e-6)
        .collect();
    let scale = median(torso).or_else(|| {
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

/// Root-centre and scale-normalise a window of keypoints (see the module docs).
pub fn normalize_sequence(frames: &[Frame2d]) -> Vec<Frame2d> {
    let (centres, s) = normalization(frames);
    frames
        .iter()
        .zip(&centres)
        .map(|(k, c)| k.map(|p| if present(&p) { [(p[0] - c[0]) / s, (p[1] - c[1]) / s, p[2]] } else { [0.0; 3] }))
        .collect()
}
