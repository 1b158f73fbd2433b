//! Configuration: raw serde structs that mirror the TOML, validated once into resolved settings.
//!
//! The defaults are held once, in Rust: the stages' own `Default`s, gathered as a raw config by
//! [`RawConfig::defaults`]. `config/default.toml` documents every key with those same values (a
//! test checks that it resolves to exactly the built-in defaults). A user's file overrides key
//! by key. Validation does no I/O: UDP targets are resolved and the `.vrm` avatar is read when
//! the sinks are built (`mocapd run` / `bench`), and those errors name their key too.

mod pipeline;
mod raw;

pub use raw::{RawConfig, DEFAULT_INPUT};

use crate::pose::{ModelKind, PerformerPolicy, PoseSettings};
use crate::source::SourceOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The documented copy of the defaults (`config/default.toml`); [`RawConfig::defaults`] holds them.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// A configuration problem, naming the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file '{path}': {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file '{path}': {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config key `{key}`: {problem}")]
    Invalid { key: &'static str, problem: String },
}

/// Resolved settings that the stages use.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The source to read when the command line names none.
    pub input: String,
    /// Frame rate given to a directory of images.
    pub image_fps: f64,
    pub source: SourceOptions,
    pub pose: PoseSettings,
    /// `[pipeline]`, `[sink.*]` and `[record]`: `mocapd run` and `mocapd bench`.
    pub pipeline: crate::pipeline::PipelineSettings,
}

impl Settings {
    /// Loads the built-in defaults, overridden by `path` when given.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let user = match path {
            None => RawConfig::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read { path: p.into(), source })?;
                parse(&text, p)?
            }
        };
        resolve(RawConfig::defaults(), user)
    }

    /// What `mocapd run` / `bench` hand to the pipeline ([`crate::pipeline::Pipeline::start`]).
    pub fn stages(&self) -> crate::pipeline::StageSettings {
        crate::pipeline::StageSettings {
            source: self.source.clone(),
            image_fps: self.image_fps,
            pose: self.pose.clone(),
            pipeline: self.pipeline.clone(),
        }
    }
}

fn parse(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })
}

/// The user's value for `key` if given, else the default.
pub(crate) fn pick<T>(user: Option<T>, default: Option<T>, key: &'static str) -> Result<T, ConfigError> {
    user.or(default).ok_or_else(|| invalid(key, "missing from the built-in defaults"))
}

pub(crate) fn invalid(key: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, problem: problem.into() }
}

pub(crate) fn seconds(key: &'static str, v: f64) -> Result<Duration, ConfigError> {
    if v.is_finite() && v > 0.0 && v < 3600.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(invalid(key, format!("must be a number of seconds between 0 and 3600, got {v}")))
    }
}

/// Takes each key from `user`, else from `defaults`, and checks it.
fn resolve(defaults: RawConfig, user: RawConfig) -> Result<Settings, ConfigError> {
    let (d, u) = (defaults.source, user.source);
    let input: String = pick(u.input, d.input, "source.input")?;
    let pacing = raw::by_name(&raw::PACINGS, &pick(u.pacing, d.pacing, "source.pacing")?).map_err(|e| invalid("source.pacing", e))?;
    let queue = pick(u.queue, d.queue, "source.queue")?;
    if !(1..=1024).contains(&queue) {
        return Err(invalid("source.queue", format!("must be between 1 and 1024, got {queue}")));
    }
    let image_fps: f64 = pick(u.image_fps, d.image_fps, "source.image_fps")?;
    if !(image_fps.is_finite() && image_fps > 0.0 && image_fps <= 1000.0) {
        return Err(invalid("source.image_fps", format!("must be in (0, 1000], got {image_fps}")));
    }
    let backoff_min = seconds("source.reconnect_min_s", pick(u.reconnect_min_s, d.reconnect_min_s, "source.reconnect_min_s")?)?;
    let backoff_max = seconds("source.reconnect_max_s", pick(u.reconnect_max_s, d.reconnect_max_s, "source.reconnect_max_s")?)?;
    if backoff_max < backoff_min {
        return Err(invalid("source.reconnect_max_s", "must not be less than source.reconnect_min_s"));
    }
    let timeout = seconds("source.timeout_s", pick(u.timeout_s, d.timeout_s, "source.timeout_s")?)?;
    let source = SourceOptions {
        pacing,
        loop_file: pick(u.looping, d.looping, "source.loop")?,
        queue_capacity: queue,
        reconnect_min: backoff_min,
        reconnect_max: backoff_max,
        network_timeout: timeout,
        retry_first_open: false,
    };

    let (d, u) = (defaults.pose, user.pose);
    let model_kind: ModelKind = pick(u.model, d.model, "pose.model")?.parse().map_err(|e: String| invalid("pose.model", e))?;
    let path_or_none = |s: Option<String>| s.filter(|s| !s.is_empty()).map(PathBuf::from);
    let threads = pick(u.threads, d.threads, "pose.threads")?;
    if !(1..=64).contains(&threads) {
        return Err(invalid("pose.threads", format!("must be between 1 and 64, got {threads}")));
    }
    let min_confidence: f32 = pick(u.min_confidence, d.min_confidence, "pose.min_confidence")?;
    if !(0.0..=1.0).contains(&min_confidence) {
        return Err(invalid("pose.min_confidence", format!("must be in [0, 1], got {min_confidence}")));
    }
    let policy: PerformerPolicy =
        pick(u.performer, d.performer, "pose.performer")?.parse().map_err(|e: String| invalid("pose.performer", e))?;
    let multipose_size: u32 = pick(u.multipose_size, d.multipose_size, "pose.multipose_size")?;
    if !(128..=1024).contains(&multipose_size) || !multipose_size.is_multiple_of(32) {
        return Err(invalid("pose.multipose_size", format!("must be a multiple of 32 in 128..=1024, got {multipose_size}")));
    }
    let detection_threshold: f32 = pick(u.detection_threshold, d.detection_threshold, "pose.detection_threshold")?;
    if !(0.0..=1.0).contains(&detection_threshold) {
        return Err(invalid("pose.detection_threshold", format!("must be in [0, 1], got {detection_threshold}")));
    }
    let track_timeout = seconds("pose.track_timeout_s", pick(u.track_timeout_s, d.track_timeout_s, "pose.track_timeout_s")?)?;
    let pose = PoseSettings {
        model_kind,
        model_path: path_or_none(u.model_path).or(path_or_none(d.model_path)),
        onnxruntime: path_or_none(u.onnxruntime).or(path_or_none(d.onnxruntime)),
        threads,
        min_confidence,
        policy,
        multipose_size,
        detection_threshold,
        track_timeout_s: track_timeout.as_secs_f64(),
    };
    let pipeline = pipeline::resolve(&defaults.pipeline, &user.pipeline, &defaults.sink, &user.sink, &defaults.record, &user.record)?;
    Ok(Settings { input, image_fps, source, pose, pipeline })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_config_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") && path.file_name().is_some_and(|n| n != "train.toml") {
                Settings::load(Some(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                n += 1;
            }
        }
        assert!(n >= 2);
    }

    #[test]
    fn defaults_match_the_documented_file() {
        let s = Settings::load(None).unwrap();
        assert_eq!(s.input, "assets/demo.mp4");
        assert_eq!(s.source.queue_capacity, 4);
        assert_eq!(s.pose.model_kind, crate::pose::ModelKind::Lightning);
        assert_eq!(s.pose.threads, 1);
        let p = &s.pipeline;
        assert_eq!((p.steps, p.guidance, p.hop, p.lookahead_frames), (4, 0.0, None, 0));
        assert_eq!(p.engine, crate::model::onnx::Engine::OnnxRuntime);
        assert_eq!(p.smoothing, Some(crate::pipeline::smooth::Smoothing { min_cutoff: 1.0, beta: 0.5 }));
        assert_eq!(p.smoothing, crate::pipeline::PipelineSettings::default().smoothing);
        assert_eq!(p.vmc.as_ref().map(|v| v.target.as_str()), Some("127.0.0.1:39539"));
        assert!(p.osc.is_none() && p.record.bvh.is_none() && p.record.vrma.is_none() && p.record.motion.is_none());
    }

    #[test]
    fn the_documented_file_is_exactly_the_built_in_defaults() {
        let documented = parse(DEFAULT_TOML, Path::new("config/default.toml")).unwrap();
        // Every key, with the same value as written in the file.
        assert_eq!(documented, RawConfig::defaults());
        // As the only layer (a key missing from it would be an error), it resolves to the same settings.
        let built_in = Settings::load(None).unwrap();
        assert_eq!(resolve(documented, RawConfig::default()).unwrap(), built_in);
        // The built-in defaults are the stages' own.
        assert_eq!(built_in.source, SourceOptions::default());
        assert_eq!(built_in.pose, PoseSettings::default());
        assert_eq!(built_in.pipeline, crate::pipeline::PipelineSettings::default());
        assert_eq!(built_in.image_fps, crate::source::DEFAULT_IMAGE_DIR_FPS);
        assert_eq!(built_in.input, DEFAULT_INPUT);
    }

    #[test]
    fn validation_does_no_io() {
        let load = |text: &str| resolve(RawConfig::defaults(), parse(text, Path::new("u")).unwrap());
        // A host name is not looked up while validating: the sender resolves it when built.
        let s = load("[sink.osc]\nenabled = true\ntarget = \"receiver.invalid:9000\"").unwrap();
        assert_eq!(s.pipeline.osc.unwrap().target, "receiver.invalid:9000");
        assert!(load("[sink.vmc]\ntarget = \"[::1]:39539\"").is_ok());
        // The avatar file is kept as a path; building the VMC sender reads it, naming the key.
        let s = load("[sink.vmc]\navatar = \"calibration/missing.vrm\"").unwrap();
        let vmc = s.pipeline.vmc.unwrap();
        assert_eq!(vmc.avatar_path.as_deref(), Some(Path::new("calibration/missing.vrm")));
        let e = crate::sink::vmc::VmcSender::new(&vmc).unwrap_err().to_string();
        assert!(e.contains("sink.vmc.avatar") && e.contains("calibration/missing.vrm") && e.contains(".vrm file"), "{e}");
    }

    #[test]
    fn errors_name_the_key() {
        let bad = |text: &str| resolve(RawConfig::defaults(), parse(text, Path::new("u")).unwrap()).unwrap_err().to_string();
        assert!(bad("[source]\npacing = \"slow\"").contains("source.pacing"));
        assert!(bad("[source]\nqueue = 0").contains("source.queue"));
        assert!(bad("[source]\nreconnect_min_s = 9.0\nreconnect_max_s = 1.0").contains("source.reconnect_max_s"));
        assert!(bad("[pose]\nmultipose_size = 250").contains("pose.multipose_size"));
        assert!(bad("[pose]\nperformer = \"tallest\"").contains("pose.performer"));
        assert!(bad("[sink.vmc]\navatar_hips_height = 9.0").contains("sink.vmc.avatar_hips_height"));
        assert!(bad("[pipeline]\nsteps = 0").contains("pipeline.steps"));
        assert!(bad("[pipeline]\nengine = \"tract\"").contains("pipeline.engine"));
        assert!(bad("[pipeline]\nlookahead_frames = 500").contains("pipeline.lookahead_frames"));
        assert!(bad("[pipeline]\nsmoothing_min_cutoff = -1.0").contains("pipeline.smoothing_min_cutoff"));
        assert!(bad("[pipeline]\nsmoothing_beta = nan").contains("pipeline.smoothing_beta"));
        assert!(bad("[sink.osc]\nenabled = true\ntarget = \"no port\"").contains("sink.osc.target"));
        assert!(bad("[sink.vmc]\ntarget = \"127.0.0.1:0\"").contains("sink.vmc.target"));
        assert!(bad("[sink.vmc]\ntarget = \":39539\"").contains("sink.vmc.target"));
        assert!(bad("[record]\nbvh_units = \"ft\"").contains("record.bvh_units"));
        assert!(bad("[sink.vmc]\nmax_rate_hz = -1.0").contains("sink.vmc.max_rate_hz"));
        let unknown = parse("[sink.vmc]\nport = 1", Path::new("u.toml")).unwrap_err().to_string();
        assert!(unknown.contains("u.toml") && unknown.contains("port"), "{unknown}");
        let unknown = parse("[sinks]\nport = 1", Path::new("u.toml")).unwrap_err().to_string();
        assert!(unknown.contains("sinks"), "{unknown}");
    }
}
