//! The fan-out: one named thread, `sinks`, runs a current-thread tokio runtime with one task
//! per sink (`vmc`, `osc`, `motion`, `bvh`, `vrma`), each fed by its own bounded
//! `tokio::sync::mpsc` channel. The denoise thread offers every frame with `try_send`; a full
//! channel drops that sink's frame (counted). UDP senders build their datagrams with the sink
//! code and send them on a `tokio::net::UdpSocket`; recorders write synchronously in their task
//! (small writes) and finish on the blocking pool. A failing sink is logged and counted and
//! never stops the others or the daemon. When the channels close (the [`Fanout`] is dropped),
//! every task finishes its sink (recordings written), then the thread ends.
//! The first sink (VMC, else OSC, else a recorder) measures latency: capture → datagram sent.
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::mpsc::{self, error::TrySendError, Receiver, Sender};

use super::settings::PipelineSettings;
use super::stats::{Sample, Stats};
use super::PipelineError;
use crate::motion::MotionFrame;
use crate::sink::bvh::BvhRecorder;
use crate::sink::motion::MotionRecorder;
use crate::sink::osc::OscSender;
use crate::sink::udp::UdpSender;
use crate::sink::vmc::VmcSender;
use crate::sink::vrma::VrmaRecorder;
use crate::sink::{Sink, SinkError, SinkStats};

/// One emitted frame on its way to the sinks.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub frame: MotionFrame,
    /// When the source captured the video frame behind it.
    pub captured: Instant,
    /// When the pose stage finished its frame.
    pub posed: Instant,
    /// When the denoise loop emitted it.
    pub emitted: Instant,
}

/// The sending side: one channel per sink. Dropping it closes them.
pub struct Fanout {
    outs: Vec<Sender<Outgoing>>,
    stats: Arc<Stats>,
}

impl Fanout {
    /// A fan-out into one plain channel (tests, embedding): the caller is the only sink.
    pub fn channel(capacity: usize, stats: Arc<Stats>) -> (Self, Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { outs: vec![tx], stats }, rx)
    }

    /// Offers the frame to every sink without waiting; a full queue drops it for that sink only.
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

/// The `sinks` thread. Joining (or dropping) waits until every sink has finished, which
/// happens once the [`Fanout`] is dropped.
pub struct SinkThread(Option<JoinHandle<Vec<SinkReport>>>);

impl SinkThread {
    /// Waits for every sink task and returns their reports (empty when already joined);
    /// `None` when the thread panicked.
    pub fn join(&mut self) -> Option<Vec<SinkReport>> {
        match self.0.take().map(JoinHandle::join) {
            Some(Ok(reports)) => Some(reports),
            Some(Err(_)) => {
                tracing::error!("thread sinks panicked");
                None
            }
            None => Some(vec![]),
        }
    }

    pub fn is_running(&self) -> bool {
        self.0.is_some()
    }
}

impl Drop for SinkThread {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// A sink as its task drives it: UDP senders send asynchronously, the rest synchronously.
enum Driven {
    Udp(Box<dyn UdpSender>, tokio::net::UdpSocket),
    Other(Box<dyn Sink>),
}

impl Driven {
    /// A UDP sender with its socket registered on the current runtime.
    fn udp(sender: impl UdpSender + 'static) -> Result<Self, SinkError> {
        let mut sender = Box::new(sender);
        let socket = sender.udp().async_socket()?;
        Ok(Self::Udp(sender, socket))
    }
}

/// Builds the configured sinks and starts the `sinks` thread.
pub fn start(s: &PipelineSettings, fps: f64, stats: &Arc<Stats>) -> Result<(Fanout, SinkThread), PipelineError> {
    let r = &s.record;
    for p in [&r.bvh, &r.vrma, &r.motion].into_iter().flatten() {
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| SinkError::Io { path: dir.into(), source })?;
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().map_err(|e| PipelineError::Thread("sinks".into(), e))?;
    let mut sinks: Vec<(&'static str, Driven)> = Vec::new();
    {
        let _in_runtime = rt.enter();
        if let Some(c) = &s.vmc {
            sinks.push(("vmc", Driven::udp(VmcSender::new(c)?)?));
        }
        if let Some(c) = &s.osc {
            sinks.push(("osc", Driven::udp(OscSender::new(c)?)?));
        }
    }
    if let Some(p) = &s.record.motion {
        sinks.push(("motion", Driven::Other(Box::new(MotionRecorder::create(p, fps)?))));
    }
    if let Some(p) = &s.record.bvh {
        sinks.push(("bvh", Driven::Other(Box::new(BvhRecorder::create(p, s.record.bvh_units, fps as f32)?))));
    }
    if let Some(p) = &s.record.vrma {
        let upper = s.vmc.as_ref().is_some_and(|v| v.unity.upper_chest);
        sinks.push(("vrma", Driven::Other(Box::new(VrmaRecorder::new(p, fps as f32, upper)))));
    }
    let mut outs = Vec::new();
    let mut tasks = Vec::new();
    for (k, (name, sink)) in sinks.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel::<Outgoing>(s.sink_queue.max(1));
        outs.push(tx);
        tasks.push(drive(name, sink, rx, k == 0, Arc::clone(stats)));
    }
    let h = std::thread::Builder::new()
        .name("sinks".into())
        .spawn(move || {
            rt.block_on(async move {
                let running: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
                let mut reports = Vec::with_capacity(running.len());
                for t in running {
                    match t.await {
                        Ok(r) => reports.push(r),
                        Err(e) => tracing::error!("sink task failed: {e}"),
                    }
                }
                reports
            })
        })
        .map_err(|e| PipelineError::Thread("sinks".into(), e))?;
    Ok((Fanout { outs, stats: Arc::clone(stats) }, SinkThread(Some(h))))
}

/// Counts a sink's failures and logs them at most every 2 s.
struct Failures<'a> {
    name: &'static str,
    stats: &'a Stats,
    errors: u64,
    last_warn: Option<Instant>,
}

impl Failures<'_> {
    fn fail(&mut self, what: &str, e: &dyn std::fmt::Display) {
        self.errors += 1;
        self.stats.sink_errors.fetch_add(1, Relaxed);
        if self.last_warn.is_none_or(|t| t.elapsed().as_secs_f64() > 2.0) {
            tracing::warn!("sink {}: {what} failed ({} so far): {e}", self.name, self.errors);
            self.last_warn = Some(Instant::now());
        }
    }
}

/// One sink's task: every frame from its channel, then the finish.
async fn drive(name: &'static str, sink: Driven, mut rx: Receiver<Outgoing>, primary: bool, stats: Arc<Stats>) -> SinkReport {
    let mut f = Failures { name, stats: &stats, errors: 0, last_warn: None };
    let sink: Box<dyn Sink> = match sink {
        Driven::Udp(mut sender, socket) => {
            while let Some(o) = rx.recv().await {
                match sender.datagrams(&o.frame) {
                    Ok(datagrams) => {
                        for d in &datagrams {
                            let r = socket.send(d).await;
                            sender.udp().sent(r);
                        }
                        if primary {
                            record_latency(&stats, &o);
                        }
                    }
                    Err(e) => f.fail("send", &e),
                }
            }
            sender
        }
        Driven::Other(mut sink) => {
            while let Some(o) = rx.recv().await {
                match sink.send(&o.frame) {
                    Ok(()) if primary => record_latency(&stats, &o),
                    Ok(()) => {}
                    Err(e) => f.fail("send", &e),
                }
            }
            sink
        }
    };
    // Finishing may write a whole file (.vrma): off the runtime thread.
    let finished = tokio::task::spawn_blocking(move || {
        let mut sink = sink;
        let r = sink.finish();
        (sink.stats(), r)
    })
    .await;
    let sink_stats = match finished {
        Ok((st, r)) => {
            if let Err(e) = r {
                f.fail("finish", &e);
            }
            st
        }
        Err(e) => {
            f.fail("finish", &e);
            SinkStats::default()
        }
    };
    SinkReport { name: name.to_string(), stats: sink_stats, errors: f.errors }
}

/// Capture → sent for the primary sink, split by stage.
fn record_latency(stats: &Stats, o: &Outgoing) {
    let c = o.captured;
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
