//! The fan-out. UDP senders (`vmc`, `osc`) are tasks on one named thread, `sinks`, that runs a
//! current-thread tokio runtime; each is fed by its own bounded `tokio::sync::mpsc` channel and
//! sends the datagrams its sink code builds on a `tokio::net::UdpSocket`. Recorders (`motion`,
//! `bvh`, `vrma`) run on their own named thread, `recorders`, fed by one bounded crossbeam
//! channel ([`RECORDER_QUEUE`] frames, so every recorder gets the same frames): their writes and
//! `fsync`s never delay a datagram. The denoise thread offers every frame with `try_send`; a full
//! channel drops that frame for that sink (or for the recordings; counted, and the `recorders`
//! thread warns). The recorders are flushed at least every 0.5 s, also when frames stop. A
//! failing sink is logged and counted and never stops the others or the daemon. When the
//! channels close (the [`Fanout`] is dropped), every sink finishes (recordings complete), then
//! the threads end. The recordings of one run are one take ([`crate::sink::take`]): never over an
//! existing take, and a take without a frame leaves no file.
//! The first sink (VMC, else OSC, else the recorders) measures latency: capture → datagram sent
//! (or frame written).
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::RecvTimeoutError;
use tokio::sync::mpsc::{self, error::TrySendError, Receiver, Sender};

use super::settings::{PipelineSettings, RecordSettings};
use super::stats::{Sample, Stats};
use super::PipelineError;
use crate::motion::MotionFrame;
use crate::sink::bvh::BvhRecorder;
use crate::sink::motion::MotionRecorder;
use crate::sink::osc::OscSender;
use crate::sink::take::Take;
use crate::sink::udp::UdpSender;
use crate::sink::vmc::VmcSender;
use crate::sink::vrma::VrmaRecorder;
use crate::sink::{Sink, SinkError, SinkStats};

/// Frames that may wait for the recorders (about 34 s at 30 fps): a disk stall that long loses
/// nothing.
pub const RECORDER_QUEUE: usize = 1024;
/// The recorders are flushed at least this often (also when no frame arrives).
pub const RECORDER_FLUSH: Duration = Duration::from_millis(500);

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

/// The sending side: one channel per UDP sender and one for the recorders. Dropping it closes
/// them.
pub struct Fanout {
    outs: Vec<Sender<Outgoing>>,
    recorders: Option<crossbeam_channel::Sender<Outgoing>>,
    recorder_drops: Arc<AtomicU64>,
    stats: Arc<Stats>,
}

impl Fanout {
    /// A fan-out into one plain channel (tests, embedding): the caller is the only sink.
    pub fn channel(capacity: usize, stats: Arc<Stats>) -> (Self, Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { outs: vec![tx], recorders: None, recorder_drops: Arc::default(), stats }, rx)
    }

    /// Offers the frame to every sink without waiting; a full queue drops it for that sink only.
    pub fn send(&self, o: Outgoing) {
        for tx in &self.outs {
            if let Err(TrySendError::Full(_)) = tx.try_send(o.clone()) {
                self.stats.sink_drops.fetch_add(1, Relaxed);
            }
        }
        if let Some(tx) = &self.recorders {
            if let Err(crossbeam_channel::TrySendError::Full(_)) = tx.try_send(o) {
                self.stats.sink_drops.fetch_add(1, Relaxed);
                self.recorder_drops.fetch_add(1, Relaxed);
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
    /// Frames its queue dropped (full).
    pub dropped: u64,
}

/// The `sinks` and `recorders` threads. Joining (or dropping) waits until every sink has
/// finished, which happens once the [`Fanout`] is dropped.
pub struct SinkThread(Vec<JoinHandle<Vec<SinkReport>>>);

impl SinkThread {
    /// Waits for every sink and returns their reports (empty when already joined); `None` when
    /// a thread panicked.
    pub fn join(&mut self) -> Option<Vec<SinkReport>> {
        let mut reports = Vec::new();
        let mut ok = true;
        for h in self.0.drain(..) {
            let name = h.thread().name().unwrap_or("?").to_string();
            match h.join() {
                Ok(r) => reports.extend(r),
                Err(_) => {
                    tracing::error!("thread {name} panicked");
                    ok = false;
                }
            }
        }
        ok.then_some(reports)
    }

    pub fn is_running(&self) -> bool {
        !self.0.is_empty()
    }
}

impl Drop for SinkThread {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// A recorder, named.
type Recorder = (&'static str, Box<dyn Sink>);

/// Opens this run's take: the `[record]` paths as a pattern ([`Take::open`]: `{time}`, the next
/// free counter), each file created new. Logs where it records.
pub fn open_take(r: &RecordSettings, fps: f64, upper_chest: bool) -> Result<Vec<Recorder>, SinkError> {
    let pattern = Take { bvh: r.bvh.clone(), vrma: r.vrma.clone(), motion: r.motion.clone() };
    if pattern.is_empty() {
        return Ok(Vec::new());
    }
    let (recorders, take) = pattern.open(SystemTime::now(), |t| {
        // On an error the recorders made so far are dropped: without a frame, they remove their file.
        let mut v: Vec<Recorder> = Vec::new();
        if let Some(p) = &t.motion {
            v.push(("motion", Box::new(MotionRecorder::create(p, fps)?)));
        }
        if let Some(p) = &t.bvh {
            v.push(("bvh", Box::new(BvhRecorder::create(p, r.bvh_units, fps as f32)?)));
        }
        if let Some(p) = &t.vrma {
            v.push(("vrma", Box::new(VrmaRecorder::new(p, fps as f32, upper_chest))));
        }
        Ok(v)
    })?;
    let mut files: Vec<String> = [&take.motion, &take.bvh].into_iter().flatten().map(|p| p.display().to_string()).collect();
    files.extend(take.vrma.as_ref().map(|p| format!("{} (written when the recording ends)", p.display())));
    tracing::info!("recording this take to {}", files.join(", "));
    if take.vrma.is_some() && take.motion.is_none() && take.bvh.is_none() {
        tracing::warn!(
            "record.vrma without record.motion: a .vrma is written only when the recording ends, so a crash loses this take; \
             set record.motion (the crash-safe copy `mocapd recover` rebuilds the .vrma from)"
        );
    }
    Ok(recorders)
}

/// Builds the configured sinks and starts the `sinks` and `recorders` threads (each only when it
/// has a sink).
pub fn start(s: &PipelineSettings, fps: f64, stats: &Arc<Stats>) -> Result<(Fanout, SinkThread), PipelineError> {
    let mut udp: Vec<(&'static str, Box<dyn UdpSender>, tokio::net::UdpSocket)> = Vec::new();
    let rt = if s.vmc.is_some() || s.osc.is_some() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().map_err(|e| PipelineError::Thread("sinks".into(), e))?;
        let _in_runtime = rt.enter();
        if let Some(c) = &s.vmc {
            let (sender, socket) = udp_sender(VmcSender::new(c)?)?;
            udp.push(("vmc", sender, socket));
        }
        if let Some(c) = &s.osc {
            let (sender, socket) = udp_sender(OscSender::new(c)?)?;
            udp.push(("osc", sender, socket));
        }
        Some(rt)
    } else {
        None
    };
    let upper = s.vmc.as_ref().is_some_and(|v| v.unity.upper_chest);
    let recorders = open_take(&s.record, fps, upper)?;
    let primary_recorders = udp.is_empty();

    let mut threads = Vec::new();
    let mut outs = Vec::new();
    if let Some(rt) = rt {
        let mut tasks = Vec::new();
        for (k, (name, sender, socket)) in udp.into_iter().enumerate() {
            let (tx, rx) = mpsc::channel::<Outgoing>(s.sink_queue.max(1));
            outs.push(tx);
            tasks.push(drive(name, sender, socket, rx, k == 0, Arc::clone(stats)));
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
        threads.push(h);
    }
    let recorder_drops = Arc::new(AtomicU64::new(0));
    let recorder_tx = if recorders.is_empty() {
        None
    } else {
        let (tx, rx) = crossbeam_channel::bounded::<Outgoing>(RECORDER_QUEUE);
        let (stats, drops) = (Arc::clone(stats), Arc::clone(&recorder_drops));
        let h = std::thread::Builder::new()
            .name("recorders".into())
            .spawn(move || record(recorders, rx, primary_recorders, &stats, &drops))
            .map_err(|e| PipelineError::Thread("recorders".into(), e))?;
        threads.push(h);
        Some(tx)
    };
    Ok((Fanout { outs, recorders: recorder_tx, recorder_drops, stats: Arc::clone(stats) }, SinkThread(threads)))
}

/// A UDP sender with its socket registered on the current runtime.
fn udp_sender(sender: impl UdpSender + 'static) -> Result<(Box<dyn UdpSender>, tokio::net::UdpSocket), SinkError> {
    let mut sender = Box::new(sender);
    let socket = sender.udp().async_socket()?;
    Ok((sender, socket))
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

/// One UDP sender's task: every frame from its channel, then the finish.
async fn drive(
    name: &'static str,
    mut sender: Box<dyn UdpSender>,
    socket: tokio::net::UdpSocket,
    mut rx: Receiver<Outgoing>,
    primary: bool,
    stats: Arc<Stats>,
) -> SinkReport {
    let mut f = Failures { name, stats: &stats, errors: 0, last_warn: None };
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
    if let Err(e) = sender.finish() {
        f.fail("finish", &e);
    }
    SinkReport { name: name.to_string(), stats: sender.stats(), errors: f.errors, dropped: 0 }
}

/// The `recorders` thread: every frame to every recorder, a flush of all at least every
/// [`RECORDER_FLUSH`], then the finish of each once the channel closes.
fn record(
    mut recorders: Vec<Recorder>,
    rx: crossbeam_channel::Receiver<Outgoing>,
    primary: bool,
    stats: &Stats,
    drops: &AtomicU64,
) -> Vec<SinkReport> {
    let mut fails: Vec<Failures> = recorders.iter().map(|(name, _)| Failures { name, stats, errors: 0, last_warn: None }).collect();
    let mut next_flush = Instant::now() + RECORDER_FLUSH;
    let (mut warned, mut last_warn) = (0, None::<Instant>);
    loop {
        match rx.recv_deadline(next_flush) {
            Ok(o) => {
                for ((_, sink), f) in recorders.iter_mut().zip(&mut fails) {
                    if let Err(e) = sink.send(&o.frame) {
                        f.fail("send", &e);
                    }
                }
                if primary {
                    record_latency(stats, &o);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if Instant::now() >= next_flush {
            for ((_, sink), f) in recorders.iter_mut().zip(&mut fails) {
                if let Err(e) = sink.flush() {
                    f.fail("flush", &e);
                }
            }
            next_flush = Instant::now() + RECORDER_FLUSH;
        }
        let dropped = drops.load(Relaxed);
        if dropped > warned && last_warn.is_none_or(|t| t.elapsed().as_secs_f64() > 2.0) {
            tracing::warn!("recorders fell behind (disk too slow?): {dropped} frames missing from the recordings so far");
            (warned, last_warn) = (dropped, Some(Instant::now()));
        }
    }
    let dropped = drops.load(Relaxed);
    recorders
        .iter_mut()
        .zip(fails)
        .map(|((name, sink), mut f)| {
            if let Err(e) = sink.finish() {
                f.fail("finish", &e);
            }
            SinkReport { name: name.to_string(), stats: sink.stats(), errors: f.errors, dropped }
        })
        .collect()
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
