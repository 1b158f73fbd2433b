//! `Pacing` and `SourceOptions`: how a source delivers frames (speed, queue size, reconnects, looping).

use std::time::Duration;

/// How a file or image-directory source is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pacing {
    /// Replay at the media frame rate, like a live stream: a slow consumer loses the oldest frames.
    #[default]
    Native,
    /// As fast as the consumer takes frames; never drops (offline processing needs every frame).
    Fast,
}

/// Knobs for [`open`](super::open). Plain data; `Default` holds the built-in defaults of the
/// `[source]` config keys (`config::RawConfig::defaults` takes them from here).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceOptions {
    /// Pacing of file and image-directory sources (live sources are always real-time).
    pub pacing: Pacing,
    /// Frames buffered between the source thread and the consumer (at least 1).
    pub queue_capacity: usize,
    /// First delay before reconnecting a dropped live source.
    pub reconnect_min: Duration,
    /// Upper bound of the exponential reconnect delay. Failed attempts on a local network are
    /// cheap (a refused connection answers at once), so the default keeps it at 0.5 s: a stream
    /// that comes back is picked up within about 1.5 s (the wait plus the stream's own open).
    pub reconnect_max: Duration,
    /// Restart a file or image directory at its end instead of closing the stream.
    pub loop_file: bool,
    /// For network streams: `false` makes `open` fail if the first connection fails;
    /// `true` returns a handle at once and keeps retrying in the background.
    pub retry_first_open: bool,
    /// Network open and read timeout (OpenCV/FFmpeg); a dead server is noticed after this long.
    pub network_timeout: Duration,
}

impl Default for SourceOptions {
    fn default() -> Self {
        Self {
            pacing: Pacing::Native,
            queue_capacity: 4,
            reconnect_min: Duration::from_millis(250),
            reconnect_max: Duration::from_millis(500),
            loop_file: false,
            retry_first_open: false,
            network_timeout: Duration::from_secs(5),
        }
    }
}
