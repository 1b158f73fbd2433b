//! Image to model input: resample a region of a BGR `Mat` into an int32 RGB NHWC buffer, zero-padded, and the map back.

use std::time::Duration;

use opencv::core::{Mat, Rect, Size};
use opencv::prelude::*;
use opencv::{core, imgproc};

use super::error::PoseError;
use super::types::Keypoint;

/// Durations of the last frame's stages (for benchmarks and status).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    pub preprocess: Duration,
    pub infer: Duration,
    pub postprocess: Duration,
}

impl StageTimes {
    pub fn total(&self) -> Duration {
        self.preprocess + self.infer + self.postprocess
    }
}

/// Maps model input coordinates back to image pixels, per axis: `x = ax + bx * u` with `u` in input pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputTransform {
    pub ax: f32,
    pub bx: f32,
    pub ay: f32,
    pub by: f32,
    /// Model input width and height in pixels.
    pub in_w: u32,
    pub in_h: u32,
}

impl InputTransform {
    /// Normalised model coordinates (`nx`, `ny` in 0..1 of the input) to image pixels.
    pub fn to_image(&self, nx: f32, ny: f32) -> (f32, f32) {
        (self.ax + self.bx * nx * self.in_w as f32, self.ay + self.by * ny * self.in_h as f32)
    }

    /// A MoveNet (y, x, score) triple to a keypoint in image pixels. Non-finite values become confidence 0
    /// at the input's centre; scores are clamped to [0, 1].
    pub fn keypoint(&self, y: f32, x: f32, score: f32) -> Keypoint {
        let ok = x.is_finite() && y.is_finite() && score.is_finite();
        let (nx, ny, c) = if ok { (x, y, score.clamp(0.0, 1.0)) } else { (0.5, 0.5, 0.0) };
        let (px, py) = self.to_image(nx, ny);
        Keypoint { x: px, y: py, c }
    }
}

fn cv(stage: &'static str) -> impl Fn(opencv::Error) -> PoseError {
    move |e| PoseError::inference(stage, e)
}

/// Resamples the image region `[x0, x0 + rw) x [y0, y0 + rh)` (pixels; may reach outside the image, which
/// reads as black) into `out` as `out_h` x `out_w` x 3 int32 RGB, reusing `scratch`.
#[allow(clippy::too_many_arguments)]
pub fn render_region(
    image: &Mat,
    (x0, y0, rw, rh): (f32, f32, f32, f32),
    out_w: u32,
    out_h: u32,
    scratch: &mut Mat,
    out: &mut Vec<i32>,
) -> Result<InputTransform, PoseError> {
    if image.typ() != core::CV_8UC3 || image.empty() {
        return Err(PoseError::BadFrame(format!(
            "expected a non-empty 8-bit BGR image, got type {} size {:?}",
            image.typ(),
            image.size().ok()
        )));
    }
    let (iw, ih) = (image.cols(), image.rows());
    let (sx, sy) = (out_w as f32 / rw, out_h as f32 / rh);
    let mut tf = InputTransform { ax: x0, bx: rw / out_w as f32, ay: y0, by: rh / out_h as f32, in_w: out_w, in_h: out_h };
    out.clear();
    out.resize((out_w * out_h * 3) as usize, 0);
    // Integer source window inside the image, and where it lands in the input.
    let (cx0, cx1) = ((x0.max(0.0)).floor() as i32, ((x0 + rw).min(iw as f32)).ceil() as i32);
    let (cy0, cy1) = ((y0.max(0.0)).floor() as i32, ((y0 + rh).min(ih as f32)).ceil() as i32);
    let dx0 = (((cx0 as f32 - x0) * sx).round() as i32).clamp(0, out_w as i32);
    let dx1 = (((cx1 as f32 - x0) * sx).round() as i32).clamp(0, out_w as i32);
    let dy0 = (((cy0 as f32 - y0) * sy).round() as i32).clamp(0, out_h as i32);
    let dy1 = (((cy1 as f32 - y0) * sy).round() as i32).clamp(0, out_h as i32);
    let (dw, dh) = (dx1 - dx0, dy1 - dy0);
    if cx1 <= cx0 || cy1 <= cy0 || dw <= 0 || dh <= 0 {
        return Ok(tf); // region entirely outside the image: all black
    }
    let roi = Mat::roi(image, Rect::new(cx0, cy0, cx1 - cx0, cy1 - cy0)).map_err(cv("preprocess"))?;
    // Bilinear, as MoveNet's own pre-processing (tf.image.crop_and_resize) does, for the crop that
    // follows the performer (~0.3 ms). Past 4x shrinking (the whole frame, when the performer is
    // lost) bilinear aliases small people away, so area averaging is worth its ~2 ms there.
    let shrink = ((cx1 - cx0) as f32 / dw as f32).max((cy1 - cy0) as f32 / dh as f32);
    let interp = if shrink > 4.0 { imgproc::INTER_AREA } else { imgproc::INTER_LINEAR };
    imgproc::resize(&roi, scratch, Size::new(dw, dh), 0.0, 0.0, interp).map_err(cv("preprocess"))?;
    let bytes = scratch.data_bytes().map_err(cv("preprocess"))?;
    let row = (dw * 3) as usize;
    for y in 0..dh as usize {
        let src = &bytes[y * row..(y + 1) * row];
        let start = (((dy0 as usize + y) * out_w as usize) + dx0 as usize) * 3;
        let dst = &mut out[start..start + row];
        for (d, s) in dst.chunks_exact_mut(3).zip(src.chunks_exact(3)) {
            d[0] = s[2] as i32; // BGR -> RGB
            d[1] = s[1] as i32;
            d[2] = s[0] as i32;
        }
    }
    // Exact map of what was drawn: input pixels [dx0, dx1) show image pixels [cx0, cx1).
    tf.bx = (cx1 - cx0) as f32 / dw as f32;
    tf.ax = cx0 as f32 - dx0 as f32 * tf.bx;
    tf.by = (cy1 - cy0) as f32 / dh as f32;
    tf.ay = cy0 as f32 - dy0 as f32 * tf.by;
    Ok(tf)
}
