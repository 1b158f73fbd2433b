//! The live pipeline behind `mocapd run` and `mocapd bench`:
//!
//! ```text
//! source thread ─► pose thread ─► [pose queue, drop-oldest] ─► denoise thread ─┬► sinks thread
//!  (or the keypoints replay thread)     (2D window ring of S frames, DDIM)     │  (tokio, one task and
//!                                                                              │  bounded queue per
//!                                                                              │  UDP sender)
//!                                                                              └► recorders thread
//!                                                                                 (one bounded queue,
//!                                                                                 the take's files)
//! ```
//!
//! [`Pipeline::start`] builds every stage (errors name what failed) and returns a handle;
//! setting the shared stop flag (SIGINT/SIGTERM in [`run`]) stops the input, and the rest
//! drains in order: the denoise loop sends what is pending, each sink finishes (recordings
//! written), and [`Pipeline::wait`] joins every thread. Dropping the handle does the same.

pub mod denoise;
pub mod fanout;
pub mod governor;
pub mod histogram;
pub mod input;
pub mod presence;
pub mod settings;
pub mod smooth;
pub mod stats;

#[cfg(test)]
pub(crate) mod tests;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use fanout::SinkReport;
pub use settings::{PipelineSettings, RecordSettings};
pub use stats::{Sample, Stats};

use crate::infer::{InferError, Lifter};
use crate::pose::PoseSettings;
use crate::source::SourceOptions;

/// Why the pipeline could not start.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Pose(#[from] crate::pose::PoseError),
    #[error(transparent)]
    Keypoints(#[from] crate::pose::record::RecordError),
    #[error(transparent)]
    Model(#[from] InferError),
    #[error(transparent)]
    Sink(#[from] crate::sink::SinkError),
    #[error("cannot start thread {0}: {1}")]
    Thread(String, std::io::Error),
    #[error("thread {0} panicked, so the run is incomplete (recordings may be short): this is a bug, please report it with the log above")]
    Panicked(String),
}

/// Everything the pipeline's stages need: how to read the input, the pose stage, and the
/// pipeline's own settings (`config::Settings::stages` gives them from a configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct StageSettings {
    /// How the source delivers frames (pacing, queue, reconnects).
    pub source: SourceOptions,
    /// Frame rate given to a directory of images.
    pub image_fps: f64,
    pub pose: PoseSettings,
    pub pipeline: PipelineSettings,
}

/// A running pipeline. Dropping it stops and joins every thread.
pub struct Pipeline {
    pub stats: Arc<Stats>,
    /// Frame rate of the input.
    pub fps: f64,
    /// Frames in the input, when known.
    pub input_frames: Option<u64>,
    stop: Arc<AtomicBool>,
    input: Option<JoinHandle<()>>,
    denoise: Option<JoinHandle<()>>,
    sinks: fanout::SinkThread,
}

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub frames_in: u64,
    pub frames_out: u64,
    pub drops: u64,
    pub seconds: f64,
    pub sinks: Vec<SinkReport>,
    /// Threads that panicked (a run with any is an error: [`RunReport::check`]).
    pub panicked: Vec<String>,
}

impl RunReport {
    /// The report, or [`PipelineError::Panicked`] when a stage thread panicked.
    pub fn check(self) -> Result<Self, PipelineError> {
        match self.panicked.is_empty() {
            true => Ok(self),
            false => Err(PipelineError::Panicked(self.panicked.join(", "))),
        }
    }
}

impl Pipeline {
    /// Starts every stage on `input` (a source string, as `mocapd keypoints` takes). Setting
    /// `stop` ends the input; the rest drains.
    pub fn start(input: &str, settings: &StageSettings, stop: Arc<AtomicBool>) -> Result<Self, PipelineError> {
        let ps = &settings.pipeline;
        let lifter = Lifter::load(&ps.checkpoint)?.with_engine(ps.engine, settings.pose.onnxruntime.as_deref())?;
        let stats = Arc::new(Stats::new());
        let (tx, rx) = crossbeam_channel::bounded(ps.pose_queue.max(1));
        let (input_handle, info) = input::spawn(input, settings, tx, rx.clone(), Arc::clone(&stats), Arc::clone(&stop))?;
        let fps = if info.fps.is_finite() && info.fps > 0.0 { info.fps } else { 30.0 };
        let (out, sinks) = match fanout::start(ps, fps, &stats) {
            Ok(started) => started,
            Err(e) => {
                // A sink that cannot start (bad target, unreadable avatar) ends the input first.
                stop.store(true, Relaxed);
                let _ = input_handle.join();
                return Err(e);
            }
        };
        let looped = denoise::DenoiseLoop::new(lifter, ps, out, Arc::clone(&stats));
        let denoise = std::thread::Builder::new()
            .name("denoise".into())
            .spawn(move || looped.run(rx))
            .map_err(|e| PipelineError::Thread("denoise".into(), e))?;
        Ok(Self { stats, fps, input_frames: info.frames, stop, input: Some(input_handle), denoise: Some(denoise), sinks })
    }

    /// Asks the input to stop; the pipeline then drains.
    pub fn stop(&self) {
        self.stop.store(true, Relaxed);
    }

    /// True once every frame has gone through (input ended and the denoise loop finished).
    pub fn is_finished(&self) -> bool {
        self.denoise.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Waits for every thread and reports.
    pub fn wait(mut self) -> RunReport {
        self.join()
    }

    fn join(&mut self) -> RunReport {
        let mut panicked = Vec::new();
        for h in [self.input.take(), self.denoise.take()].into_iter().flatten() {
            let name = h.thread().name().unwrap_or("?").to_string();
            if h.join().is_err() {
                tracing::error!("thread {name} panicked");
                panicked.push(name);
            }
        }
        // The denoise loop owned the fan-out: its channels are closed, so the sinks finish.
        let sinks = self.sinks.join().unwrap_or_else(|| {
            panicked.push("sinks".into());
            vec![]
        });
        let st = &self.stats;
        RunReport {
            frames_in: st.frames_in.load(Relaxed),
            frames_out: st.frames_out.load(Relaxed),
            drops: st.drops(),
            seconds: st.started.elapsed().as_secs_f64(),
            sinks,
            panicked,
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if self.input.is_some() || self.denoise.is_some() || self.sinks.is_running() {
            self.stop();
            self.join();
        }
    }
}

/// `mocapd run`: runs until the input ends or `shutdown` is set, printing the status line on
/// stderr every `settings.pipeline.status_every`.
pub fn run(input: &str, settings: &StageSettings, shutdown: Arc<AtomicBool>) -> Result<RunReport, PipelineError> {
    let p = Pipeline::start(input, settings, Arc::clone(&shutdown))?;
    let mut status = stats::StatusLine::new(&p.stats);
    let mut next = Instant::now() + settings.pipeline.status_every.unwrap_or(Duration::from_secs(1));
    while !p.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
        if let Some(every) = settings.pipeline.status_every.filter(|_| Instant::now() >= next) {
            eprintln!("{}", status.tick(&p.stats));
            next += every;
        }
    }
    p.wait().check()
}
