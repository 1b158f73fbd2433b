//! Raw configuration: serde structs that mirror exactly what the user wrote in TOML.

use serde::Deserialize;

/// The whole file. Every section and key is optional; missing ones take the defaults
/// documented in `config/default.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub source: RawSource,
    #[serde(default)]
    pub pose: RawPose,
    #[serde(default)]
    pub pipeline: RawPipeline,
    #[serde(default)]
    pub sink: RawSinks,
    #[serde(default)]
    pub record: RawRecord,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub input: Option<String>,
    pub pacing: Option<String>,
    #[serde(rename = "loop")]
    pub looping: Option<bool>,
    pub queue: Option<usize>,
    pub image_fps: Option<f64>,
    pub reconnect_min_s: Option<f64>,
    pub reconnect_max_s: Option<f64>,
    pub timeout_s: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPose {
    pub model: Option<String>,
    pub model_path: Option<String>,
    pub onnxruntime: Option<String>,
    pub threads: Option<usize>,
    pub min_confidence: Option<f32>,
    pub performer: Option<String>,
    pub multipose_size: Option<u32>,
    pub detection_threshold: Option<f32>,
    pub track_timeout_s: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    pub checkpoint: Option<String>,
    pub steps: Option<usize>,
    pub guidance: Option<f64>,
    pub engine: Option<String>,
    pub hop: Option<usize>,
    pub lookahead_frames: Option<usize>,
    pub seed: Option<u64>,
    pub max_root_speed: Option<f32>,
    pub smoothing_min_cutoff: Option<f32>,
    pub smoothing_beta: Option<f32>,
    pub pose_queue: Option<usize>,
    pub sink_queue: Option<usize>,
    pub absent_timeout_s: Option<f64>,
    pub idle_ease_s: Option<f64>,
    pub return_blend_s: Option<f64>,
    pub status_interval_s: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSinks {
    #[serde(default)]
    pub vmc: RawVmc,
    #[serde(default)]
    pub osc: RawOsc,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVmc {
    pub enabled: Option<bool>,
    pub target: Option<String>,
    pub max_rate_hz: Option<f32>,
    pub ok_with_tracking: Option<bool>,
    pub upper_chest: Option<bool>,
    pub avatar: Option<String>,
    pub avatar_hips_height: Option<f32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOsc {
    pub enabled: Option<bool>,
    pub target: Option<String>,
    pub max_rate_hz: Option<f32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecord {
    pub bvh: Option<String>,
    pub bvh_units: Option<String>,
    pub vrma: Option<String>,
    pub motion: Option<String>,
}
