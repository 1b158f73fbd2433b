//! Single-person MoveNet (lightning 192 / thunder 256): preprocess a crop, infer, map keypoints back to the image.

use std::time::Instant;

use opencv::core::Mat;

use super::crop::CropRegion;
use super::error::PoseError;
use super::runtime::ModelSession;
use super::tensor::{render_region, InputTransform, StageTimes};
use super::types::{Keypoint, NUM_KEYPOINTS};

/// A single-person MoveNet model with its reusable buffers.
pub struct SinglePose {
    session: ModelSession,
    size: u32,
    input: Vec<i32>,
    output: Vec<f32>,
    scratch: Mat,
    /// Durations of the last frame's stages.
    pub times: StageTimes,
}

impl SinglePose {
    /// `session` must be a lightning or thunder model (checked by `ModelSession::load`).
    pub fn new(session: ModelSession) -> Result<Self, PoseError> {
        let size =
            session.kind().input_size().ok_or_else(|| PoseError::Settings(format!("{} is not a single-person model", session.kind())))?;
        Ok(SinglePose { session, size, input: Vec::new(), output: Vec::new(), scratch: Mat::default(), times: StageTimes::default() })
    }

    /// Square input side in pixels.
    pub fn input_size(&self) -> u32 {
        self.size
    }

    /// Crops `crop` out of the BGR image (black outside), resizes it to the input square as int32 RGB NHWC.
    /// The tensor stays in `self` (see [`SinglePose::input`]); the returned transform maps it back.
    pub fn preprocess(&mut self, image: &Mat, crop: &CropRegion) -> Result<InputTransform, PoseError> {
        let _span = tracing::info_span!("pose.preprocess").entered();
        let start = Instant::now();
        let tf = render_region(image, (crop.x0, crop.y0, crop.size, crop.size), self.size, self.size, &mut self.scratch, &mut self.input);
        self.times.preprocess = start.elapsed();
        tf
    }

    /// The last preprocessed input tensor, `[1, size, size, 3]` flattened.
    pub fn input(&self) -> &[i32] {
        &self.input
    }

    /// Runs the model on the last preprocessed input.
    pub fn infer(&mut self) -> Result<(), PoseError> {
        let _span = tracing::info_span!("pose.infer").entered();
        let start = Instant::now();
        let r = self.session.run(&self.input, self.size, self.size, &mut self.output);
        self.times.infer = start.elapsed();
        r
    }

    /// Maps the last output's (y, x, score) triples to image pixels through `tf`.
    pub fn postprocess(&mut self, tf: &InputTransform) -> Result<[Keypoint; NUM_KEYPOINTS], PoseError> {
        let _span = tracing::info_span!("pose.postprocess").entered();
        let start = Instant::now();
        if self.output.len() < NUM_KEYPOINTS * 3 {
            return Err(PoseError::inference("postprocess", format!("expected 51 output values, got {}", self.output.len())));
        }
        let mut k = [Keypoint::default(); NUM_KEYPOINTS];
        for (j, t) in self.output.chunks_exact(3).take(NUM_KEYPOINTS).enumerate() {
            k[j] = tf.keypoint(t[0], t[1], t[2]);
        }
        self.times.postprocess = start.elapsed();
        Ok(k)
    }

    /// Preprocess, infer and postprocess one frame.
    pub fn run(&mut self, image: &Mat, crop: &CropRegion) -> Result<[Keypoint; NUM_KEYPOINTS], PoseError> {
        let tf = self.preprocess(image, crop)?;
        self.infer()?;
        self.postprocess(&tf)
    }
}
