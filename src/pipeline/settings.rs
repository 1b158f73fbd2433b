//! Resolved settings of `mocapd run` / `mocapd bench`: the denoise loop, presence handling, and
//! which sinks run (validated from the `[pipeline]`, `[sink.*]` and `[record]` TOML sections by
//! `config`).
use std::path::PathBuf;
use std::time::Duration;

use super::smooth::Smoothing;
use crate::model::onnx::Engine;
use crate::motion::bvh::Units;
use crate::sink::osc::OscConfig;
use crate::sink::vmc::VmcConfig;

/// How the denoise loop runs and where its output goes. `Default` holds the built-in defaults
/// of the `[pipeline]`, `[sink.*]` and `[record]` keys (`config::RawConfig::defaults` takes
/// them from here).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// `mocapd.denoiser/1` checkpoint.
    pub checkpoint: PathBuf,
    /// DDIM steps per update.
    pub steps: usize,
    /// Classifier-free guidance weight (0 = conditional only).
    pub guidance: f64,
    /// Which engine runs the denoiser's per-step forward (ONNX Runtime by default: faster, same
    /// outputs within 1e-4).
    pub engine: Engine,
    /// `None`: the next update starts as soon as the last one ends (adaptive stride);
    /// `Some(n)`: wait for `n` new frames.
    pub hop: Option<usize>,
    /// Frames of future context held back before a frame is sent.
    pub lookahead_frames: usize,
    /// Seed of the sampling noise.
    pub seed: u64,
    /// When the frames leave later than this (capture → emitted) beyond the lookahead's own
    /// delay, the live loop samples with fewer steps ([`super::governor::Governor`]); `None`:
    /// never degrade.
    pub latency_budget: Option<Duration>,
    /// The root moves at most this fast (m/s) from one sent frame to the next; `None`: no limit.
    pub max_root_speed: Option<f32>,
    /// One-Euro filter on what is sent (rotations and root); `None`: off.
    pub smoothing: Option<Smoothing>,
    /// Send the mirror image ([`crate::motion::MotionFrame::mirrored`]): the avatar moves like
    /// the performer's reflection (raise your right hand, it raises its left).
    pub mirror: bool,
    /// Poses that may wait between the pose stage and the denoise loop (oldest dropped).
    pub pose_queue: usize,
    /// Frames that may wait for each UDP sender (newest dropped when full); the recorders have
    /// their own, larger queue (`fanout::RECORDER_QUEUE`).
    pub sink_queue: usize,
    /// Performer out of view longer than this: hold the last pose and ease to idle.
    pub absent_timeout: Duration,
    /// Time to ease from the held pose to the neutral idle pose.
    pub idle_ease: Duration,
    /// Time to blend back from idle when the performer returns.
    pub return_blend: Duration,
    /// Status line period; `None`: no status line.
    pub status_every: Option<Duration>,
    pub vmc: Option<VmcConfig>,
    pub osc: Option<OscConfig>,
    pub record: RecordSettings,
}

/// Recordings; each is off when its path is `None`. The paths are a pattern for the run's take
/// (`{time}`, and the next free counter when any file of the take exists: [`crate::sink::take`]);
/// no recording ever overwrites a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordSettings {
    /// Crash-safe BVH, written while running.
    pub bvh: Option<PathBuf>,
    pub bvh_units: Units,
    /// VRM Animation, written when the recording ends.
    pub vrma: Option<PathBuf>,
    /// `mocapd.motion/1` JSON Lines, written while running (crash-safe; `mocapd recover` rebuilds
    /// the `.vrma` and BVH from it).
    pub motion: Option<PathBuf>,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            checkpoint: crate::infer::DEFAULT_CHECKPOINT.into(),
            steps: 4,
            guidance: 0.0,
            engine: Engine::default(),
            hop: None,
            lookahead_frames: 0,
            seed: 0,
            latency_budget: Some(Duration::from_millis(80)),
            max_root_speed: Some(6.0),
            smoothing: Some(Smoothing { min_cutoff: 1.0, beta: 0.5 }),
            mirror: false,
            pose_queue: 32,
            sink_queue: 64,
            absent_timeout: Duration::from_secs(1),
            idle_ease: Duration::from_secs(1),
            return_blend: Duration::from_millis(500),
            status_every: Some(Duration::from_secs(1)),
            vmc: Some(VmcConfig::default()),
            osc: None,
            record: RecordSettings::default(),
        }
    }
}
