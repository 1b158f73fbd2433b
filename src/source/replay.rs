//! Replay of finite frame sequences (video files, image directories): pacing, looping, seq and t.

use super::handle::Stop;
use super::options::Pacing;
use super::queue::FrameSink;
use super::Frame;
use opencv::core::Mat;
use std::time::{Duration, Instant};

/// A finite, restartable sequence of decoded images.
pub(crate) trait FrameReader: Send {
    /// Next image; `None` at the end (or after an unrecoverable decode error, already logged).
    fn next_image(&mut self) -> Option<Mat>;
    /// Goes back to the first image; false if that is impossible (logged).
    fn rewind(&mut self) -> bool;
    /// Frames the container claims to hold, for the truncation warning.
    fn expected_len(&self) -> Option<u64>;
}

pub(crate) struct Replay {
    pub label: String,
    pub fps: f64,
    pub pacing: Pacing,
    pub looping: bool,
    pub sink: FrameSink,
    /// Image already decoded by `open()` during validation: delivered first.
    pub first: Option<Mat>,
}

impl Replay {
    /// Thread body: delivers every image as a `Frame` until the end, a stop, or the consumer leaves.
    pub fn run(mut self, mut reader: impl FrameReader, stop: Stop) {
        let frame_dt = 1.0 / self.fps;
        let start = Instant::now();
        let mut seq: u64 = 0;
        let mut in_pass: u64 = 0;
        loop {
            if stop.is_set() {
                return;
            }
            let image = match self.first.take() {
                Some(m) => Some(m),
                None => reader.next_image(),
            };
            let Some(image) = image else {
                if let Some(n) = reader.expected_len().filter(|&n| in_pass + 1 < n) {
                    tracing::warn!(source = %self.label, "stream ended after {in_pass} of {n} frames (file truncated or damaged)");
                }
                if self.looping && in_pass > 0 && reader.rewind() {
                    tracing::debug!(source = %self.label, "looping back to the start");
                    in_pass = 0;
                    continue;
                }
                tracing::info!(source = %self.label, frames = seq, "end of stream");
                return;
            };
            let t = seq as f64 * frame_dt;
            if self.pacing == Pacing::Native && stop.sleep_until(start + Duration::from_secs_f64(t)) {
                return;
            }
            // For Native pacing `captured` is the release time, as a live source would stamp it.
            let frame = Frame { seq, captured: Instant::now(), t, image };
            if !self.sink.push(frame, &stop) {
                return;
            }
            seq += 1;
            in_pass += 1;
        }
    }
}
