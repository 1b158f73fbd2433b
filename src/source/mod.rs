//! Frame sources: video files, webcams, RTSP/HTTP streams and image directories, each on its own thread.
//!
//! Parse a [`SourceSpec`], pick [`SourceOptions`], call [`open`], then pull [`Frame`]s from the
//! [`SourceHandle`]. Dropping the handle stops and joins the reader thread.

mod capture;
mod error;
mod file;
mod handle;
mod images;
mod live;
mod open;
mod options;
mod queue;
mod replay;
mod spec;

pub use crossbeam_channel::RecvTimeoutError;
pub use error::SourceError;
pub use handle::{SourceHandle, SourceStats, StreamInfo};
pub use images::list_images;
pub use open::open;
pub use options::{Pacing, SourceOptions};
pub use spec::{CameraId, SourceSpec, DEFAULT_IMAGE_DIR_FPS};

use opencv::core::Mat;
use std::time::Instant;

/// One decoded frame (BGR, 8-bit) with its place in the stream.
pub struct Frame {
    /// Sequence number, counting from 0 for the first frame the source delivered.
    pub seq: u64,
    /// Monotonic capture time: when the frame left the decoder (for Native-paced replay, when it
    /// was released at its media time, as a live source would stamp it).
    pub captured: Instant,
    /// Media time in seconds (file position, or time since a live source started).
    pub t: f64,
    pub image: Mat,
}
