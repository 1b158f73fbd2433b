//! Raw configuration: serde structs that mirror exactly what the user wrote in TOML, and the
//! built-in defaults in the same form ([`RawConfig::defaults`]).

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::motion::bvh::Units;
use crate::pipeline::PipelineSettings;
use crate::pose::PoseSettings;
use crate::source::{Pacing, SourceOptions, DEFAULT_IMAGE_DIR_FPS};

/// `source.input`: what `mocapd run` reads when neither the command line nor the config names a source.
pub const DEFAULT_INPUT: &str = "assets/demo.mp4";

/// `source.pacing` names.
pub(crate) const PACINGS: [(&str, Pacing); 2] = [("native", Pacing::Native), ("fast", Pacing::Fast)];

/// `record.bvh_units` names.
pub(crate) const BVH_UNITS: [(&str, Units); 2] = [("m", Units::Metres), ("cm", Units::Centimetres)];

/// The value named `name` in `table`, or the problem (listing the names).
pub(crate) fn by_name<T: Copy>(table: &[(&str, T)], name: &str) -> Result<T, String> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).ok_or_else(|| {
        let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
        format!("'{name}' is not one of: {}", names.join(", "))
    })
}

/// The name of `value` in `table`.
fn name_of<T: PartialEq>(table: &[(&'static str, T)], value: &T) -> &'static str {
    table.iter().find(|(_, v)| v == value).map_or("", |(n, _)| *n)
}

/// The whole file. Every section and key is optional; missing ones take the built-in defaults
/// ([`RawConfig::defaults`], documented in `config/default.toml`).
#[derive(Debug, Default, PartialEq, Deserialize)]
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

#[derive(Debug, Default, PartialEq, Deserialize)]
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

#[derive(Debug, Default, PartialEq, Deserialize)]
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

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    pub checkpoint: Option<String>,
    pub steps: Option<usize>,
    pub guidance: Option<f64>,
    pub engine: Option<String>,
    pub hop: Option<usize>,
    pub lookahead_frames: Option<usize>,
    pub seed: Option<u64>,
    pub latency_budget_ms: Option<f64>,
    pub max_root_speed: Option<f32>,
    pub smoothing_min_cutoff: Option<f32>,
    pub smoothing_beta: Option<f32>,
    pub mirror: Option<bool>,
    pub pose_queue: Option<usize>,
    pub sink_queue: Option<usize>,
    pub absent_timeout_s: Option<f64>,
    pub idle_ease_s: Option<f64>,
    pub return_blend_s: Option<f64>,
    pub status_interval_s: Option<f64>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSinks {
    #[serde(default)]
    pub vmc: RawVmc,
    #[serde(default)]
    pub osc: RawOsc,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
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

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOsc {
    pub enabled: Option<bool>,
    pub target: Option<String>,
    pub max_rate_hz: Option<f32>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecord {
    pub bvh: Option<String>,
    pub bvh_units: Option<String>,
    pub vrma: Option<String>,
    pub motion: Option<String>,
}

impl RawConfig {
    /// Every key's built-in default, as a config file would write it. The values are the stages'
    /// own defaults ([`SourceOptions`], [`PoseSettings`], [`PipelineSettings`] with its sinks and
    /// recordings), plus [`DEFAULT_INPUT`] and [`DEFAULT_IMAGE_DIR_FPS`], so each default is held
    /// in one place; `config/default.toml` documents the same values (a test keeps them equal).
    pub fn defaults() -> Self {
        let secs = |d: Duration| Some(d.as_secs_f64());
        let path = |p: Option<&Path>| Some(p.map_or_else(String::new, |p| p.display().to_string()));
        let src = SourceOptions::default();
        let source = RawSource {
            input: Some(DEFAULT_INPUT.into()),
            pacing: Some(name_of(&PACINGS, &src.pacing).into()),
            looping: Some(src.loop_file),
            queue: Some(src.queue_capacity),
            image_fps: Some(DEFAULT_IMAGE_DIR_FPS),
            reconnect_min_s: secs(src.reconnect_min),
            reconnect_max_s: secs(src.reconnect_max),
            timeout_s: secs(src.network_timeout),
        };
        let p = PoseSettings::default();
        let pose = RawPose {
            model: Some(p.model_kind.name().into()),
            model_path: path(p.model_path.as_deref()),
            onnxruntime: path(p.onnxruntime.as_deref()),
            threads: Some(p.threads),
            min_confidence: Some(p.min_confidence),
            performer: Some(p.policy.to_string()),
            multipose_size: Some(p.multipose_size),
            detection_threshold: Some(p.detection_threshold),
            track_timeout_s: Some(p.track_timeout_s),
        };
        let p = PipelineSettings::default();
        let pipeline = RawPipeline {
            checkpoint: Some(p.checkpoint.display().to_string()),
            steps: Some(p.steps),
            guidance: Some(p.guidance),
            engine: Some(p.engine.name().into()),
            hop: Some(p.hop.unwrap_or(0)),
            lookahead_frames: Some(p.lookahead_frames),
            seed: Some(p.seed),
            latency_budget_ms: Some(p.latency_budget.map_or(0.0, |d| d.as_secs_f64() * 1e3)),
            max_root_speed: Some(p.max_root_speed.unwrap_or(0.0)),
            // With smoothing off by default, beta would only be a placeholder.
            smoothing_min_cutoff: Some(p.smoothing.map_or(0.0, |s| s.min_cutoff)),
            smoothing_beta: Some(p.smoothing.map_or(0.0, |s| s.beta)),
            mirror: Some(p.mirror),
            pose_queue: Some(p.pose_queue),
            sink_queue: Some(p.sink_queue),
            absent_timeout_s: secs(p.absent_timeout),
            idle_ease_s: secs(p.idle_ease),
            return_blend_s: secs(p.return_blend),
            status_interval_s: Some(p.status_every.map_or(0.0, |d| d.as_secs_f64())),
        };
        let vmc = p.vmc.clone().unwrap_or_default();
        let osc = p.osc.clone().unwrap_or_default();
        let sink = RawSinks {
            vmc: RawVmc {
                enabled: Some(p.vmc.is_some()),
                target: Some(vmc.target),
                max_rate_hz: Some(vmc.max_rate_hz.unwrap_or(0.0)),
                ok_with_tracking: Some(vmc.ok_with_tracking),
                upper_chest: Some(vmc.unity.upper_chest),
                avatar: path(vmc.avatar_path.as_deref()),
                avatar_hips_height: Some(vmc.unity.avatar_hips_height.unwrap_or(0.0)),
            },
            osc: RawOsc { enabled: Some(p.osc.is_some()), target: Some(osc.target), max_rate_hz: Some(osc.max_rate_hz.unwrap_or(0.0)) },
        };
        let r = &p.record;
        let record = RawRecord {
            bvh: path(r.bvh.as_deref()),
            bvh_units: Some(name_of(&BVH_UNITS, &r.bvh_units).into()),
            vrma: path(r.vrma.as_deref()),
            motion: path(r.motion.as_deref()),
        };
        RawConfig { source, pose, pipeline, sink, record }
    }
}
