//! `FrameSink`: the source thread's end of the frame queue (drop-oldest for live, backpressure for offline).

use super::handle::{Shared, Stop};
use super::Frame;
use crossbeam_channel::{Receiver, SendTimeoutError, Sender, TrySendError};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Minimum time between two "consumer too slow" warnings.
const DROP_WARN_EVERY: Duration = Duration::from_secs(2);

/// Sending side of a source's bounded frame queue.
pub(crate) struct FrameSink {
    tx: Sender<Frame>,
    /// Present for live queues: used to throw the oldest frame away when the queue is full.
    drain: Option<Receiver<Frame>>,
    shared: Arc<Shared>,
    label: String,
    last_warn: Option<Instant>,
}

impl FrameSink {
    /// Makes a queue of `capacity` frames; `drop_oldest` selects live behaviour.
    pub fn new(capacity: usize, drop_oldest: bool, shared: Arc<Shared>, label: &str) -> (Self, Receiver<Frame>) {
        let (tx, rx) = crossbeam_channel::bounded(capacity.max(1));
        let drain = drop_oldest.then(|| rx.clone());
        (Self { tx, drain, shared, label: label.to_string(), last_warn: None }, rx)
    }

    /// Hands a frame on. Returns false when the source should stop (consumer gone or stop asked).
    pub fn push(&mut self, frame: Frame, stop: &Stop) -> bool {
        self.shared.frames_read.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(source = %self.label, seq = frame.seq, t = frame.t, "frame");
        match self.drain.take() {
            Some(drain) => {
                let ok = self.push_dropping(frame, &drain);
                self.drain = Some(drain);
                ok
            }
            None => self.push_blocking(frame, stop),
        }
    }

    fn push_blocking(&self, mut frame: Frame, stop: &Stop) -> bool {
        loop {
            match self.tx.send_timeout(frame, Duration::from_millis(100)) {
                Ok(()) => return true,
                Err(SendTimeoutError::Disconnected(_)) => return false,
                Err(SendTimeoutError::Timeout(f)) => {
                    if stop.is_set() {
                        return false;
                    }
                    frame = f;
                }
            }
        }
    }

    fn push_dropping(&mut self, mut frame: Frame, drain: &Receiver<Frame>) -> bool {
        loop {
            match self.tx.try_send(frame) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(f)) => {
                    frame = f;
                    if drain.try_recv().is_ok() {
                        self.note_drop();
                    }
                }
            }
        }
    }

    fn note_drop(&mut self) {
        let total = self.shared.frames_dropped.fetch_add(1, Ordering::Relaxed) + 1;
        let now = Instant::now();
        if self.last_warn.is_none_or(|t| now.duration_since(t) >= DROP_WARN_EVERY) {
            self.last_warn = Some(now);
            tracing::warn!(source = %self.label, dropped_total = total, "consumer is too slow: dropped the oldest frames, {total} in total so far");
        }
    }
}
