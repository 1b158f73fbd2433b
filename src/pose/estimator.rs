//! `PoseEstimator`: one MoveNet model plus the crop and tracker around it, frame in, `PoseFrame` out.

use opencv::core::Mat;
use opencv::prelude::*;

use super::crop::{determine_crop_region, CropRegion, MIN_CROP_KEYPOINT_SCORE};
use super::error::PoseError;
use super::movenet::SinglePose;
use super::multipose::{multipose_input_size, MultiPose};
use super::runtime::ModelSession;
use super::settings::{ModelKind, PoseSettings};
use super::tensor::StageTimes;
use super::track::Tracker;
use super::types::{Keypoint, Person, PoseFrame, NUM_KEYPOINTS};

enum Model {
    Single(SinglePose),
    Multi(MultiPose),
}

/// Runs pose estimation on frames and keeps the performer's identity.
///
/// Lightning/Thunder see one person: the crop follows the tracked performer (MoveNet's cropping
/// algorithm on the performer's last keypoints), so at most one person is returned. Multipose sees up
/// to six; all are tracked. In every `PoseFrame` the performer comes first when seen in that frame
/// (check `people[0].id == performer_id()`), the others follow by track id.
pub struct PoseEstimator {
    model: Model,
    tracker: Tracker,
    settings: PoseSettings,
    last_crop: Option<CropRegion>,
}

impl PoseEstimator {
    /// Loads ONNX Runtime (once per process) and the model, checks it and warms it up.
    pub fn new(settings: &PoseSettings) -> Result<Self, PoseError> {
        if settings.model_kind == ModelKind::Multipose && (settings.multipose_size < 32 || !settings.multipose_size.is_multiple_of(32)) {
            return Err(PoseError::Settings(format!("multipose_size {} must be a positive multiple of 32", settings.multipose_size)));
        }
        if !(0.0..=1.0).contains(&settings.min_confidence) || !(0.0..=1.0).contains(&settings.detection_threshold) {
            return Err(PoseError::Settings("min_confidence and detection_threshold must be within 0..1".into()));
        }
        // Find the model file before loading the runtime, so a typo is reported as such.
        let path = settings.model_file()?;
        let env = crate::onnxrt::environment(settings.onnxruntime.as_deref())?;
        let warmup = multipose_input_size(1280, 720, settings.multipose_size);
        let session = ModelSession::load(&env, settings.model_kind, &path, settings.threads, (warmup.1, warmup.0))?;
        let model = match settings.model_kind {
            ModelKind::Multipose => Model::Multi(MultiPose::new(session, settings.multipose_size, settings.detection_threshold)),
            _ => Model::Single(SinglePose::new(session)?),
        };
        tracing::info!(model = %settings.model_kind, path = %path.display(), threads = settings.threads, "pose model ready");
        Ok(PoseEstimator {
            model,
            tracker: Tracker::new(settings.policy, settings.track_timeout_s),
            settings: settings.clone(),
            last_crop: None,
        })
    }

    pub fn settings(&self) -> &PoseSettings {
        &self.settings
    }

    /// Track id of the performer, once chosen and while its track lives.
    pub fn performer_id(&self) -> Option<u32> {
        self.tracker.performer()
    }

    /// Durations of the last frame's preprocess, infer and postprocess.
    pub fn stage_times(&self) -> StageTimes {
        match &self.model {
            Model::Single(m) => m.times,
            Model::Multi(m) => m.times,
        }
    }

    /// The crop used for the last frame (single-person models only).
    pub fn last_crop(&self) -> Option<CropRegion> {
        self.last_crop
    }

    /// Forgets all tracks and the performer (e.g. when the source changes).
    pub fn reset(&mut self) {
        self.tracker = Tracker::new(self.settings.policy, self.settings.track_timeout_s);
        self.last_crop = None;
    }

    /// Estimates the poses in one BGR frame. `seq` and `t` (media seconds) come from the source.
    pub fn estimate(&mut self, frame: &Mat, seq: u64, t: f64) -> Result<PoseFrame, PoseError> {
        let _span = tracing::info_span!("pose.estimate", seq).entered();
        let (w, h) = (frame.cols().max(0) as u32, frame.rows().max(0) as u32);
        if w == 0 || h == 0 {
            return Err(PoseError::BadFrame(format!("frame {seq} is empty")));
        }
        let t = if t.is_finite() { t } else { seq as f64 / 30.0 };
        let (detections, region) = match &mut self.model {
            Model::Multi(m) => (m.run(frame)?, None),
            Model::Single(m) => {
                let crop = determine_crop_region(self.tracker.performer_keypoints(t).as_ref(), w, h);
                self.last_crop = Some(crop);
                let keypoints = m.run(frame, &crop)?;
                let det = single_detection(keypoints, self.settings.detection_threshold).into_iter().collect();
                let full = crop.is_full_frame(w, h);
                (det, (!full).then_some([crop.x0, crop.y0, crop.x0 + crop.size, crop.y0 + crop.size]))
            }
        };
        let people = {
            let _span = tracing::info_span!("pose.track").entered();
            self.tracker.update_hinted(detections, t, w, h, region)
        };
        Ok(PoseFrame { frame: seq, t, width: w, height: h, performer: self.tracker.performer(), people })
    }
}

/// A single-person result as a detection: score = mean keypoint confidence, box = the keypoints above
/// the crop threshold, padded by 5 %. `None` when the model sees nobody.
fn single_detection(keypoints: [Keypoint; NUM_KEYPOINTS], threshold: f32) -> Option<Person> {
    let score = keypoints.iter().map(|k| k.c).sum::<f32>() / NUM_KEYPOINTS as f32;
    let b = Person::keypoint_box(&keypoints, MIN_CROP_KEYPOINT_SCORE)?;
    if score < threshold {
        return None;
    }
    let (pw, ph) = ((b[2] - b[0]) * 0.05 + 2.0, (b[3] - b[1]) * 0.05 + 2.0);
    Some(Person { id: 0, score, bbox: [b[0] - pw, b[1] - ph, b[2] + pw, b[3] + ph], keypoints })
}
