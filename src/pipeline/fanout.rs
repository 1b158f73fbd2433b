//! The fan-out: one named thread per sink (`sink-vmc`, `sink-osc`, `sink-bvh`, `sink-vrma`,
//! `sink-motion`), each fed by its own bounded crossbeam channel. A full channel drops that
//! sink's frame (counted); a failing sink is logged and counted and never stops the others or
//! the daemon. When the channels close, every sink is finished (recordings written).
//! The first sink (VMC, else OSC, else a recorder) measures latency: capture → datagram sent.
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Sender, TrySendError};

use super::settings::PipelineSettings;
use super::stats::{Sample, Stats};
use super::PipelineError;
use crate::sink::bvh::BvhRecorder;
use crate::sink::motion::MotionRecorder;
use crate::sink::osc::OscSender;
use crate::sink::vmc::VmcSender;
use crate::sink::vrma::VrmaRecorder;
use crate::sink::{MotionFrame, Sink, SinkStats};

/// One emitted frame on its way to the sinks.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub frame: MotionFrame,
    /// When the pose stage finished its frame.
    pub posed: Instant,
    /// When the denoise loop emitted it.
    pub emitted: Instant,
}

/// The sending side: one channel per sink.
pub struct Fanout {
    outs: Vec<Sender<Outgoing>>,
    stats: Arc<Stats>,
}

impl Fanout {
    /// A fan-out into one plain channel (tests, embedding): the caller is the only sink.
    pub fn channel(capacity: usize, stats: Arc<Stats>) -> (Self, crossbeam_channel::Receiver<Outgoing>) {
        let (tx, rx) = crossbeam_channel::bounded(capacity.max(1));
        (Self { outs: vec![tx], stats }, rx)
    }

    /// Offers the frame to every sink; a full queue drops it for that sink only.
    pub fn send(&self, o: Outgoing) {
        for tx in &self.outs {
            if let Err(TrySendError::Full(_)) = tx.try_send(o.clone()) {
                self.stats.sink_drops.fetch_add(1, Relaxed);
            }
        }
    }
}

/// What one sink did.
#[derive(Debug, Clone)]
pub struct SinkReport {
    pub name: String,
    pub stats: SinkStats,
    pub errors: u64,
}

/// Builds the configured sinks and starts their threads.
pub fn start(s: &PipelineSettings, fps: f64, stats: &Arc<Stats>) -> Result<(Fanout, Vec<JoinHandle<SinkReport>>), PipelineError> {
    let r = &s.record;
    for p in [&r.bvh, &r.vrma, &r.motion].into_iter().flatten() {
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| crate::sink::SinkError::Io { path: dir.into(), source })?;
        }
    }
    let mut sinks: Vec<(&str, Box<dyn Sink>)> = Vec::new();
    if let Some(c) = &s.vmc {
        sinks.push(("vmc", Box::new(VmcSender::new(c)?)));
    }
    if let Some(c) = &s.osc {
        sinks.push(("osc", Box::new(OscSender::new(c)?)));
    }
    if let Some(p) = &s.record.motion {
        sinks.push(("motion", Box::new(MotionRecorder::create(p, fps)?)));
    }
    if let Some(p) = &s.record.bvh {
        sinks.push(("bvh", Box::new(BvhRecorder::create(p, s.record.bvh_units, fps as f32)?)));
    }
    if let Some(p) = &s.record.vrma {
        let upper = s.vmc.as_ref().is_some_and(|v| v.unity.upper_chest);
        sinks.push(("vrma", Box::new(VrmaRecorder::new(p, fps as f32, upper))));
    }
    let mut outs = Vec::new();
    let mut handles = Vec::new();
    for (k, (name, sink)) in sinks.into_iter().enumerate() {
        let (tx, rx) = crossbeam_channel::bounded::<Outgoing>(s.sink_queue.max(1));
        outs.push(tx);
        let stats = Arc::clone(stats);
        let thread = format!("sink-{name}");
        let h = std::thread::Builder::new()
            .name(thread.clone())
            .spawn(move || drive(name, sink, rx, k == 0, &stats))
            .map_err(|e| PipelineError::Thread(thread, e))?;
        handles.push(h);
    }
    Ok((Fanout { outs, stats: Arc::clone(stats) }, handles))
}

fn drive(name: &str, mut sink: Box<dyn Sink>, rx: crossbeam_channel::Receiver<Outgoing>, primary: bool, stats: &Stats) -> SinkReport {
    let mut errors = 0u64;
    let mut last_warn: Option<Instant> = None;
    let mut fail = |what: &str, e: &dyn std::fmt::Display, errors: &mut u64| {
        *errors += 1;
        stats.sink_errors.fetch_add(1, Relaxed);
        if last_warn.is_none_or(|t| t.elapsed().as_secs_f64() > 2.0) {
            tracing::warn!("sink {name}: {what} failed ({} so far): {e}", *errors);
            last_warn = Some(Instant::now());
        }
    };
    for o in rx.iter() {
        if let Err(e) = sink.send(&o.frame) {
            fail("send", &e, &mut errors);
            continue;
        }
        if primary {
            if let Some(c) = o.frame.captured {
                let now = Instant::now();
                let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_secs_f64() * 1e3;
                stats.record(Sample {
                    frame: o.frame.frame,
                    latency_ms: ms(c, now),
                    pose_ms: ms(c, o.posed),
                    denoise_ms: ms(o.posed, o.emitted),
                    sink_ms: ms(o.emitted, now),
                    sent_s: now.saturating_duration_since(stats.started).as_secs_f64(),
                });
            }
        }
    }
    if let Err(e) = sink.finish() {
        fail("finish", &e, &mut errors);
    }
    SinkReport { name: name.to_string(), stats: sink.stats(), errors }
}
