//! `SourceHandle`: the consumer's end of a source thread (frames, info, stats) and its shutdown on drop.

use super::Frame;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long `Drop` waits for the source thread before detaching it (it is stuck in a decoder call
/// and will exit as soon as that returns).
const JOIN_WAIT: Duration = Duration::from_millis(1500);

/// What is known about the stream. For a network stream opened with retry, width/height are 0
/// and fps is 0 until the first connection succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StreamInfo {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// Total frames when known (files, image directories).
    pub frame_count: Option<u64>,
    /// Frames come in real time and a slow consumer loses the oldest (cameras, URLs,
    /// Native-paced files and image directories).
    pub live: bool,
}

/// Counters of a running source, read with [`SourceHandle::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceStats {
    /// Frames decoded and offered to the queue.
    pub frames_read: u64,
    /// Frames thrown away because the consumer was slow (live queues only).
    pub frames_dropped: u64,
    /// Times a lost live stream was successfully re-established.
    pub reconnects: u64,
    /// Connection attempts that failed (first open included when retrying).
    pub failed_connects: u64,
}

/// State shared between the source thread and its handle.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub frames_read: AtomicU64,
    pub frames_dropped: AtomicU64,
    pub reconnects: AtomicU64,
    pub failed_connects: AtomicU64,
    pub info: Mutex<StreamInfo>,
}

impl Shared {
    pub fn new(info: StreamInfo) -> Arc<Self> {
        Arc::new(Self { info: Mutex::new(info), ..Self::default() })
    }

    pub fn set_info(&self, f: impl FnOnce(&mut StreamInfo)) {
        if let Ok(mut g) = self.info.lock() {
            f(&mut g);
        }
    }
}

/// Cooperative stop signal for a source thread: set when the handle drops its sender.
pub(crate) struct Stop(Receiver<()>);

impl Stop {
    pub fn is_set(&self) -> bool {
        matches!(self.0.try_recv(), Err(crossbeam_channel::TryRecvError::Disconnected))
    }

    /// Sleeps `d` unless stopped first; returns true when stopped.
    pub fn sleep(&self, d: Duration) -> bool {
        matches!(self.0.recv_timeout(d), Err(RecvTimeoutError::Disconnected))
    }

    /// Sleeps until `deadline` unless stopped first; returns true when stopped.
    pub fn sleep_until(&self, deadline: Instant) -> bool {
        let now = Instant::now();
        if deadline <= now {
            return self.is_set();
        }
        self.sleep(deadline - now)
    }
}

/// Receives frames from a source thread. Dropping it stops and joins the thread.
pub struct SourceHandle {
    rx: Receiver<Frame>,
    shared: Arc<Shared>,
    stop_tx: Option<Sender<()>>,
    done_rx: Receiver<()>,
    thread: Option<JoinHandle<()>>,
    name: String,
}

impl SourceHandle {
    /// Spawns the named source thread running `body(stop)`.
    pub(crate) fn spawn(
        name: &str,
        rx: Receiver<Frame>,
        shared: Arc<Shared>,
        body: impl FnOnce(Stop) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        let thread = std::thread::Builder::new().name(name.to_string()).spawn(move || {
            let _done = done_tx; // dropped on exit, even by a panic: tells Drop we are finished
            body(Stop(stop_rx));
        })?;
        Ok(Self { rx, shared, stop_tx: Some(stop_tx), done_rx, thread: Some(thread), name: name.to_string() })
    }

    /// Next frame, blocking; `None` once the source has ended (end of file, or thread stopped).
    pub fn recv(&self) -> Option<Frame> {
        self.rx.recv().ok()
    }

    /// Next frame, waiting at most `d`: `Err(Timeout)` if none came, `Err(Disconnected)` at the end.
    pub fn recv_timeout(&self, d: Duration) -> Result<Frame, RecvTimeoutError> {
        self.rx.recv_timeout(d)
    }

    /// The frame channel, for `crossbeam_channel::select!`.
    pub fn receiver(&self) -> &Receiver<Frame> {
        &self.rx
    }

    /// Current stream description (updated when a live stream (re)connects).
    pub fn info(&self) -> StreamInfo {
        self.shared.info.lock().map(|g| *g).unwrap_or_default()
    }

    /// Snapshot of the counters.
    pub fn stats(&self) -> SourceStats {
        let s = &self.shared;
        SourceStats {
            frames_read: s.frames_read.load(Ordering::Relaxed),
            frames_dropped: s.frames_dropped.load(Ordering::Relaxed),
            reconnects: s.reconnects.load(Ordering::Relaxed),
            failed_connects: s.failed_connects.load(Ordering::Relaxed),
        }
    }

    /// Stops the source thread and joins it, like `Drop`, but says whether the thread finished
    /// cleanly within the 1.5 s grace period (false: it panicked or was left detached).
    pub fn close(mut self) -> bool {
        self.shutdown()
    }

    fn shutdown(&mut self) -> bool {
        drop(self.stop_tx.take());
        let Some(thread) = self.thread.take() else {
            return true;
        };
        match self.done_rx.recv_timeout(JOIN_WAIT) {
            Err(RecvTimeoutError::Timeout) => {
                tracing::warn!(thread = %self.name, "source thread still busy in the decoder after {JOIN_WAIT:?}; detaching it (it exits when the call returns)");
                false
            }
            _ => {
                let ok = thread.join().is_ok();
                if !ok {
                    tracing::error!(thread = %self.name, "source thread panicked");
                }
                ok
            }
        }
    }
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
