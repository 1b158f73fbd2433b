//! The denoise loop, on its own named thread: poses arrive into the 2D [`Window`] (the last S
//! frames); each update takes the newest full window, in-fills the frames already sent (held
//! fixed, in the window's canonical placement) and generates only the new ones with few-step
//! DDIM ([`Lifter::sample_window`], shared with the offline lifter). By default an update starts
//! as soon as the last one ends (adaptive stride); `hop` waits for that many new frames, and
//! `lookahead_frames` holds the newest frames back as future context. Each frame's noise depends
//! only on the seed and its absolute index ([`FrameNoise`]), so successive updates agree on the
//! frames they share. Frames without the performer are in-filled and marked `inferred`; longer
//! absences go through [`Presence`]. What is sent goes through the One-Euro [`PoseFilter`].
//! The logic lives in [`Stream`], which the thread ([`DenoiseLoop`]) and the streaming
//! evaluation ([`stream_sequence`], no threads, no clock) share. Only the thread has a
//! [`Governor`]: under load it lowers the DDIM steps of the next updates to keep latency in
//! `pipeline.latency_budget_ms`.
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::fanout::{Fanout, Outgoing};
use super::governor::{Governor, Rung};
use super::presence::{standing_idle, Presence};
use super::settings::PipelineSettings;
use super::smooth::PoseFilter;
use super::stats::Stats;
use crate::infer::{Features, FrameNoise, Lifter};
use crate::motion::codec::{decode_frame, encode_frame};
use crate::motion::frame::keep_sign;
use crate::motion::{MotionFrame, Placement};
use crate::skeleton::rotation::{add, norm, scale, sub, Vec3};
use crate::window::{Pose2d, Window};

/// Frames gathered before the first update (about a quarter of a second at 30 fps).
pub const WARMUP_FRAMES: usize = 8;

/// One frame the stream generated, with when its video frame was captured and its pose made.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub frame: MotionFrame,
    /// When the source captured the video frame (for latency accounting).
    pub captured: Instant,
    /// When the pose stage finished the frame.
    pub posed: Instant,
}

/// The streaming lifter's state, apart from threads and channels: the 2D window, the frames
/// already sent, presence, the output filter and the seed of the per-frame sampling noise. The
/// `denoise` thread ([`DenoiseLoop`]) and the streaming evaluation ([`stream_sequence`]) both
/// drive it, so they run the same logic.
pub struct Stream {
    steps: usize,
    guidance: f64,
    hop: Option<usize>,
    lookahead: u64,
    window: Window,
    /// World-frame features of the last sent frames, ending at `sent_end`.
    history: VecDeque<Features>,
    sent_end: u64,
    last: Option<MotionFrame>,
    last_t: f64,
    max_root_speed: Option<f32>,
    presence: Presence,
    /// One-Euro filter on what is sent (`pipeline.smoothing_*`).
    filter: Option<PoseFilter>,
    /// Seed of the per-frame sampling noise ([`FrameNoise`]).
    seed: u64,
    /// Send the mirror image (`pipeline.mirror`); the in-filled history stays unmirrored.
    mirror: bool,
    stats: Arc<Stats>,
}

impl Stream {
    /// A stream for a model of `frames`-frame windows.
    pub fn new(frames: usize, s: &PipelineSettings, stats: Arc<Stats>) -> Self {
        Self {
            steps: s.steps,
            guidance: s.guidance,
            hop: s.hop,
            lookahead: s.lookahead_frames.min(frames / 2) as u64,
            window: Window::new(frames),
            history: VecDeque::with_capacity(frames),
            sent_end: 0,
            last: None,
            last_t: 0.0,
            max_root_speed: s.max_root_speed,
            presence: Presence::new(s.absent_timeout.as_secs_f64(), s.idle_ease.as_secs_f64(), s.return_blend.as_secs_f64()),
            filter: s.smoothing.map(PoseFilter::new),
            seed: s.seed,
            mirror: s.mirror,
            stats,
        }
    }

    /// Samples the next updates with `r`'s steps and guidance.
    pub fn set_rung(&mut self, r: Rung) {
        (self.steps, self.guidance) = (r.steps, r.guidance);
    }

    /// Whether another pose fits without overwriting a frame that was never generated.
    pub fn has_room(&self) -> bool {
        self.window.end() - self.sent_end < self.window.capacity() as u64
    }

    pub fn push(&mut self, p: Pose2d) {
        self.stats.frames_in.fetch_add(1, Relaxed);
        self.window.push(p);
    }

    /// One update: generates frames `sent_end..target` and returns them, in order (none when
    /// the warm-up, the hop or the lookahead says to wait). `last`: the input has ended, send
    /// everything pending.
    pub fn update(&mut self, lifter: &Lifter, last: bool) -> Vec<Emitted> {
        let end = self.window.end();
        let target = if last { end } else { end.saturating_sub(self.lookahead) };
        if target <= self.sent_end || self.window.is_empty() {
            return vec![];
        }
        if self.sent_end == 0 && !last && (target as usize) < WARMUP_FRAMES {
            // A first window of one frame held 150 times gives the model nothing to go on.
            return vec![];
        }
        if let Some(hop) = self.hop.filter(|_| !last) {
            if target - self.sent_end < hop as u64 {
                return vec![];
            }
        }
        let ws = self.window.start();
        if self.sent_end < ws {
            // The denoiser fell a whole window behind: those frames are gone.
            self.stats.window_skips.fetch_add(ws - self.sent_end, Relaxed);
            self.sent_end = ws;
            self.history.clear();
        }
        let need_model = (self.sent_end..target).filter_map(|i| self.window.get(i)).any(|p| !self.presence.is_idle_at(p.t, p.seen));
        let feats = if need_model { self.sample(lifter, ws) } else { None };
        let mut out = Vec::with_capacity((target - self.sent_end) as usize);
        for i in self.sent_end..target {
            let Some(p) = self.window.get(i).cloned() else { continue };
            let model = feats.as_ref().map(|z| decode_frame(&z[(i - ws) as usize]));
            let mode = self.presence.step(p.t, p.seen, self.last.as_ref());
            let mut pose = self.presence.apply(mode, model.as_ref()).or(self.last).unwrap_or_else(|| standing_idle(i, p.t));
            if let Some(prev) = &self.last {
                keep_sign(&prev.rotations, &mut pose.rotations);
                if let Some(v) = self.max_root_speed {
                    pose.root = limit_step(prev.root, pose.root, v * (p.t - self.last_t).clamp(1e-3, 1.0) as f32);
                }
            }
            if let Some(f) = &mut self.filter {
                // While idle the presence ease is the motion; the filter starts afresh from it,
                // so the return blend and live motion are filtered from the pose last sent.
                if matches!(mode, super::presence::Mode::Idle(_)) {
                    f.reset();
                }
                pose = f.apply(p.t, &pose);
            }
            self.last_t = p.t;
            self.history.push_back(encode_frame(&pose));
            if self.history.len() > self.window.capacity() {
                self.history.pop_front();
            }
            self.last = Some(pose);
            let inferred = !p.seen || !matches!(mode, super::presence::Mode::Live);
            let frame = MotionFrame { frame: i, t: p.t, inferred, ..pose };
            let frame = if self.mirror { frame.mirrored() } else { frame };
            self.stats.frames_out.fetch_add(1, Relaxed);
            out.push(Emitted { frame, captured: p.captured, posed: p.posed });
        }
        self.sent_end = target;
        out
    }

    /// Samples the window starting at `ws` with the sent frames in-filled; world features per
    /// window frame, or `None` when the model failed (logged; the last pose is held).
    fn sample(&mut self, lifter: &Lifter, ws: u64) -> Option<Vec<Features>> {
        let t0 = Instant::now();
        let s = lifter.frames();
        let kp = self.window.keypoints(ws, s);
        let known_n = ((self.sent_end - ws) as usize).min(self.history.len());
        let known: Vec<Features> = self.history.iter().skip(self.history.len() - known_n).cloned().collect();
        let place = match (known.first(), &self.last) {
            (Some(f), _) => lifter.placement(&decode_frame(f)),
            (None, Some(p)) => lifter.placement(p),
            (None, None) => Placement::IDENTITY,
        };
        let out = lifter.sample_window(&kp, &known, place, self.steps, self.guidance, FrameNoise { seed: self.seed, first: ws });
        self.stats.record_update(t0.elapsed());
        match out {
            Ok(z) => Some(z),
            Err(e) => {
                tracing::warn!("denoiser failed, holding the last pose: {e}");
                None
            }
        }
    }
}

/// Runs a recorded sequence through a [`Stream`] deterministically, as the daemon would with
/// `s.hop` frames between updates: one pose at a time, an update offered after each (so the
/// hop, warm-up and lookahead decide, never a clock), then everything pending at the end.
/// Returns one frame per pose, in order. `mocapd eval --streaming` measures this.
pub fn stream_sequence(lifter: &Lifter, s: &PipelineSettings, poses: impl IntoIterator<Item = Pose2d>) -> Vec<MotionFrame> {
    let mut stream = Stream::new(lifter.frames(), s, Arc::new(Stats::new()));
    let mut out = Vec::new();
    for p in poses {
        if !stream.has_room() {
            // The daemon would wait here for the update in flight; same outcome.
            out.extend(stream.update(lifter, true));
        }
        stream.push(p);
        out.extend(stream.update(lifter, false));
    }
    out.extend(stream.update(lifter, true));
    out.into_iter().map(|e| e.frame).collect()
}

/// The `denoise` thread's loop: poses from the pose queue into the [`Stream`], its frames out
/// to the sinks.
pub struct DenoiseLoop {
    lifter: Lifter,
    stream: Stream,
    governor: Governor,
    /// Whether an update has sent frames yet.
    warmed_up: bool,
    stats: Arc<Stats>,
    out: Fanout,
}

impl DenoiseLoop {
    pub fn new(lifter: Lifter, s: &PipelineSettings, out: Fanout, stats: Arc<Stats>) -> Self {
        // The lookahead's own delay is chosen, not load: the budget comes on top of it.
        let lookahead = Duration::from_secs_f64(s.lookahead_frames as f64 / crate::motion::MODEL_FPS);
        let governor = Governor::new(s.steps, s.guidance, s.latency_budget.map(|b| b + lookahead));
        stats.set_rung(governor.rung(), false);
        Self { stream: Stream::new(lifter.frames(), s, Arc::clone(&stats)), lifter, governor, warmed_up: false, stats, out }
    }

    /// Runs until the pose queue closes, then sends every frame still pending (lookahead too).
    /// Takes no more poses than the window can hold unsent: a burst waits in the pose queue
    /// instead of overwriting frames that were never generated.
    pub fn run(mut self, rx: Receiver<Pose2d>) {
        loop {
            let mut ended = false;
            if self.stream.has_room() {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(p) => self.stream.push(p),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => ended = true,
                }
                while !ended && self.stream.has_room() {
                    match rx.try_recv() {
                        Ok(p) => self.stream.push(p),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => ended = true,
                    }
                }
            }
            let t0 = Instant::now();
            let frames = self.stream.update(&self.lifter, ended);
            let emitted = Instant::now();
            if let Some(oldest) = frames.iter().map(|e| e.captured).min() {
                self.stats.count_update_at(self.governor.rung().steps);
                let latency = emitted.saturating_duration_since(oldest).as_secs_f64() * 1e3;
                let before = self.governor.rung();
                // The first update's frames waited for the warm-up, not for a busy machine.
                let first = !std::mem::replace(&mut self.warmed_up, true);
                let change = if first { None } else { self.governor.observe(latency, (emitted - t0).as_secs_f64() * 1e3) };
                if let Some(r) = change {
                    if r.steps < before.steps || r.guidance < before.guidance {
                        self.stats.degradations.fetch_add(1, Relaxed);
                    }
                    tracing::info!(
                        "{}: frames leave {:.0} ms after capture (pipeline.latency_budget_ms {:.0}); now {} DDIM step{}{} per update (configured {})",
                        if self.governor.degraded() { "busy machine" } else { "room again" },
                        self.governor.latency_ms().unwrap_or(f64::NAN),
                        self.governor.budget_ms().unwrap_or(f64::NAN),
                        r.steps,
                        if r.steps == 1 { "" } else { "s" },
                        if r.guidance > 0.0 { " with guidance" } else { "" },
                        self.governor.full().steps,
                    );
                    self.stream.set_rung(r);
                    self.stats.set_rung(r, self.governor.degraded());
                }
            }
            for e in frames {
                self.out.send(Outgoing { frame: e.frame, captured: e.captured, posed: e.posed, emitted });
            }
            if ended {
                break;
            }
        }
    }
}

/// `to`, moved no further than `max` metres from `from` (no root teleports).
fn limit_step(from: Vec3, to: Vec3, max: f32) -> Vec3 {
    let d = sub(to, from);
    let n = norm(d);
    if n <= max || !n.is_finite() {
        return to;
    }
    add(from, scale(d, max / n))
}
