//! MoveNet multipose: the whole frame, letterboxed to a multiple of 32, gives up to 6 people with boxes.

use std::time::Instant;

use opencv::core::Mat;
use opencv::prelude::*;

use super::error::PoseError;
use super::runtime::ModelSession;
use super::tensor::{render_region, InputTransform, StageTimes};
use super::types::{Keypoint, Person, NUM_KEYPOINTS};

/// Values per detection in the `[1, 6, 56]` output: 17 x (y, x, score), then ymin, xmin, ymax, xmax, score.
const DET_LEN: usize = 56;

/// Model input width and height for an image: the long side `long_side` (rounded to a multiple of 32),
/// the other side scaled the same and rounded up to a multiple of 32 (padding below / right).
pub fn multipose_input_size(width: u32, height: u32, long_side: u32) -> (u32, u32) {
    let long = (long_side.max(32) + 16) / 32 * 32;
    let scale = long as f32 / width.max(height).max(1) as f32;
    let up32 = |v: f32| ((v.ceil() as u32).div_ceil(32) * 32).max(32);
    (up32(width as f32 * scale), up32(height as f32 * scale))
}

/// The multipose model with its reusable buffers.
pub struct MultiPose {
    session: ModelSession,
    long_side: u32,
    threshold: f32,
    in_w: u32,
    in_h: u32,
    input: Vec<i32>,
    output: Vec<f32>,
    scratch: Mat,
    /// Durations of the last frame's stages.
    pub times: StageTimes,
}

impl MultiPose {
    /// `long_side`: input size on the image's long side (multiple of 32); `threshold`: minimum detection score.
    pub fn new(session: ModelSession, long_side: u32, threshold: f32) -> Self {
        MultiPose {
            session,
            long_side,
            threshold,
            in_w: 0,
            in_h: 0,
            input: Vec::new(),
            output: Vec::new(),
            scratch: Mat::default(),
            times: StageTimes::default(),
        }
    }

    /// Letterboxes the whole BGR image into the model input (int32 RGB NHWC, black padding).
    pub fn preprocess(&mut self, image: &Mat) -> Result<InputTransform, PoseError> {
        let _span = tracing::info_span!("pose.preprocess").entered();
        let start = Instant::now();
        let (w, h) = (image.cols().max(1) as u32, image.rows().max(1) as u32);
        let (in_w, in_h) = multipose_input_size(w, h, self.long_side);
        let scale = in_w.max(in_h) as f32 / w.max(h) as f32;
        (self.in_w, self.in_h) = (in_w, in_h);
        let region = (0.0, 0.0, in_w as f32 / scale, in_h as f32 / scale);
        let tf = render_region(image, region, in_w, in_h, &mut self.scratch, &mut self.input);
        self.times.preprocess = start.elapsed();
        tf
    }

    /// Runs the model on the last preprocessed input.
    pub fn infer(&mut self) -> Result<(), PoseError> {
        let _span = tracing::info_span!("pose.infer").entered();
        let start = Instant::now();
        let r = self.session.run(&self.input, self.in_h, self.in_w, &mut self.output);
        self.times.infer = start.elapsed();
        r
    }

    /// Decodes the last output into people (id 0, unassigned) at or above the score threshold, in image pixels.
    /// Detections with a non-finite score or box are dropped; non-finite keypoints get confidence 0.
    pub fn postprocess(&mut self, tf: &InputTransform) -> Result<Vec<Person>, PoseError> {
        let _span = tracing::info_span!("pose.postprocess").entered();
        let start = Instant::now();
        if !self.output.len().is_multiple_of(DET_LEN) {
            return Err(PoseError::inference("postprocess", format!("output length {} is not a multiple of 56", self.output.len())));
        }
        let mut people = Vec::new();
        for d in self.output.chunks_exact(DET_LEN) {
            let score = d[55];
            if !score.is_finite() || score < self.threshold || !d[51..55].iter().all(|v| v.is_finite()) {
                continue;
            }
            let mut keypoints = [Keypoint::default(); NUM_KEYPOINTS];
            for (j, t) in d[..51].chunks_exact(3).enumerate() {
                keypoints[j] = tf.keypoint(t[0], t[1], t[2]);
            }
            let (x0, y0) = tf.to_image(d[52], d[51]);
            let (x1, y1) = tf.to_image(d[54], d[53]);
            let bbox = [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)];
            people.push(Person { id: 0, score: score.min(1.0), bbox, keypoints });
        }
        self.times.postprocess = start.elapsed();
        Ok(people)
    }

    /// Preprocess, infer and postprocess one frame.
    pub fn run(&mut self, image: &Mat) -> Result<Vec<Person>, PoseError> {
        let tf = self.preprocess(image)?;
        self.infer()?;
        self.postprocess(&tf)
    }
}
