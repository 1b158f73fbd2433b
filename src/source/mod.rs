//! Frame sources: video files, webcams, RTSP/HTTP streams and image directories, each on its own thread.

use opencv::core::Mat;
use std::time::Instant;

/// One decoded frame (BGR, 8-bit) with its place in the stream.
pub struct Frame {
    /// Sequence number, counting from 0 for the first frame the source delivered.
    pub seq: u64,
    /// Monotonic capture time: when the frame left the decoder.
    pub captured: Instant,
    /// Media time in seconds (file position, or time since a live source started).
    pub t: f64,
    pub image: Mat,
}
