//! MoveNet's cropping algorithm: a square crop that follows the body seen in the previous frame.
//!
//! Port of `determine_crop_region` from the TF Hub MoveNet tutorial, in pixels. Crops may extend past
//! the image; the preprocessor pads with black as the tutorial does.

use super::types::{Keypoint, NUM_KEYPOINTS};

/// Keypoints above this count for the crop (the tutorial's `MIN_CROP_KEYPOINT_SCORE`).
pub const MIN_CROP_KEYPOINT_SCORE: f32 = 0.2;
const TORSO_EXPANSION_RATIO: f32 = 1.9;
const BODY_EXPANSION_RATIO: f32 = 1.2;
const LEFT_SHOULDER: usize = 5;
const RIGHT_SHOULDER: usize = 6;
const LEFT_HIP: usize = 11;
const RIGHT_HIP: usize = 12;

/// A square region of the image in pixels: top-left corner and side. May reach outside the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropRegion {
    pub x0: f32,
    pub y0: f32,
    pub size: f32,
}

impl CropRegion {
    /// The whole frame, padded to a square centred on it (the tutorial's `init_crop_region`).
    pub fn full_frame(width: u32, height: u32) -> Self {
        let (w, h) = (width as f32, height as f32);
        let size = w.max(h);
        CropRegion { x0: (w - size) * 0.5, y0: (h - size) * 0.5, size }
    }

    /// True when this is (about) the full-frame crop.
    pub fn is_full_frame(&self, width: u32, height: u32) -> bool {
        let f = Self::full_frame(width, height);
        (self.size - f.size).abs() < 1.0 && (self.x0 - f.x0).abs() < 1.0 && (self.y0 - f.y0).abs() < 1.0
    }
}

fn visible(k: &Keypoint) -> bool {
    k.c > MIN_CROP_KEYPOINT_SCORE && k.x.is_finite() && k.y.is_finite()
}

/// True when at least one hip and one shoulder are visible.
pub fn torso_visible(k: &[Keypoint; NUM_KEYPOINTS]) -> bool {
    (visible(&k[LEFT_HIP]) || visible(&k[RIGHT_HIP])) && (visible(&k[LEFT_SHOULDER]) || visible(&k[RIGHT_SHOULDER]))
}

/// The crop for the next frame from the previous frame's keypoints (image pixels); the full frame
/// when there are none or the torso is not visible.
pub fn determine_crop_region(keypoints: Option<&[Keypoint; NUM_KEYPOINTS]>, width: u32, height: u32) -> CropRegion {
    let Some(k) = keypoints.filter(|k| torso_visible(k)) else {
        return CropRegion::full_frame(width, height);
    };
    let (w, h) = (width as f32, height as f32);
    // The tutorial averages both hips whatever their scores; it only requires one of them visible.
    let cx = (k[LEFT_HIP].x + k[RIGHT_HIP].x) * 0.5;
    let cy = (k[LEFT_HIP].y + k[RIGHT_HIP].y) * 0.5;
    if !cx.is_finite() || !cy.is_finite() {
        return CropRegion::full_frame(width, height);
    }
    let (mut torso_x, mut torso_y) = (0.0f32, 0.0f32);
    for j in [LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP] {
        torso_x = torso_x.max((cx - k[j].x).abs());
        torso_y = torso_y.max((cy - k[j].y).abs());
    }
    let (mut body_x, mut body_y) = (0.0f32, 0.0f32);
    for p in k.iter().filter(|p| visible(p)) {
        body_x = body_x.max((cx - p.x).abs());
        body_y = body_y.max((cy - p.y).abs());
    }
    let mut half = (torso_x * TORSO_EXPANSION_RATIO)
        .max(torso_y * TORSO_EXPANSION_RATIO)
        .max(body_x * BODY_EXPANSION_RATIO)
        .max(body_y * BODY_EXPANSION_RATIO);
    half = half.min(cx.max(w - cx).max(cy).max(h - cy));
    if !half.is_finite() || half <= 1.0 || half > w.max(h) * 0.5 {
        return CropRegion::full_frame(width, height);
    }
    CropRegion { x0: cx - half, y0: cy - half, size: 2.0 * half }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_to_full_frame_without_torso() {
        let k = [Keypoint { x: 10.0, y: 10.0, c: 0.1 }; NUM_KEYPOINTS];
        let r = determine_crop_region(Some(&k), 1768, 994);
        assert!(r.is_full_frame(1768, 994));
        assert_eq!(r.size, 1768.0);
        assert_eq!(r.y0, (994.0 - 1768.0) / 2.0);
    }

    #[test]
    fn centres_on_hips() {
        let mut k = [Keypoint { x: 500.0, y: 400.0, c: 0.9 }; NUM_KEYPOINTS];
        k[LEFT_HIP] = Keypoint { x: 490.0, y: 500.0, c: 0.9 };
        k[RIGHT_HIP] = Keypoint { x: 510.0, y: 500.0, c: 0.9 };
        k[16] = Keypoint { x: 500.0, y: 700.0, c: 0.9 };
        let r = determine_crop_region(Some(&k), 1768, 994);
        assert_eq!(r.x0 + r.size / 2.0, 500.0);
        assert_eq!(r.y0 + r.size / 2.0, 500.0);
        assert_eq!(r.size, 2.0 * 200.0 * 1.2);
    }
}
