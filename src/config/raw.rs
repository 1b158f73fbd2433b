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
