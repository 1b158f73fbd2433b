//! Live sources (cameras, RTSP/HTTP streams): the reading thread and its reconnect-with-backoff loop.

use super::capture::{self, FALLBACK_FPS};
use super::handle::{Shared, Stop};
use super::queue::FrameSink;
use super::spec::CameraId;
use super::Frame;
use opencv::videoio::VideoCapture;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a live source connects to.
pub(crate) enum LiveTarget {
    Camera(CameraId),
    Url(String),
}

impl LiveTarget {
    /// Name for logs and errors (URL passwords hidden).
    pub fn label(&self) -> String {
        match self {
            LiveTarget::Camera(id) => format!("camera {id}"),
            LiveTarget::Url(u) => redact(u),
        }
    }

    /// One connection attempt; `None` when it failed (details at debug level).
    pub fn connect(&self, timeout: Duration) -> Option<VideoCapture> {
        let res = match self {
            LiveTarget::Camera(id) => capture::open_camera(id),
            LiveTarget::Url(u) => capture::open_url(u, timeout),
        };
        res.unwrap_or_else(|e| {
            tracing::debug!(source = %self.label(), error = %e, "OpenCV open failed");
            None
        })
    }
}

/// "RTSP" or "HTTP", for messages.
pub(crate) fn url_kind(url: &str) -> &'static str {
    if url.to_ascii_lowercase().starts_with("rtsp") {
        "RTSP"
    } else {
        "HTTP"
    }
}

/// Hides the password of `scheme://user:pass@host/...`.
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{}{}:***{}", &url[..scheme_end], &rest[..colon], &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Records what a fresh connection reports in the shared `StreamInfo`.
pub(crate) fn publish_info(shared: &Shared, cap: &VideoCapture) {
    let p = capture::probe(cap);
    shared.set_info(|i| {
        i.width = p.width;
        i.height = p.height;
        i.fps = p.fps.unwrap_or(FALLBACK_FPS);
        i.live = true;
    });
}

pub(crate) struct Live {
    pub target: LiveTarget,
    pub label: String,
    pub sink: FrameSink,
    pub shared: Arc<Shared>,
    pub timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Instant the source was opened: `t` counts from here.
    pub start: Instant,
}

impl Live {
    /// Thread body: read frames; on loss reconnect with exponential backoff until stopped. Never gives up.
    pub fn run(mut self, first: Option<VideoCapture>, stop: Stop) {
        let mut seq: u64 = 0;
        let mut pending = first;
        let mut ever_connected = pending.is_some();
        let mut delay = self.backoff_min;
        loop {
            if stop.is_set() {
                return;
            }
            let mut cap = match pending.take() {
                Some(cap) => cap,
                None => match self.target.connect(self.timeout) {
                    Some(cap) => {
                        if ever_connected {
                            self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
                            tracing::info!(source = %self.label, "reconnected");
                        } else {
                            tracing::info!(source = %self.label, "connected");
                        }
                        ever_connected = true;
                        publish_info(&self.shared, &cap);
                        cap
                    }
                    None => {
                        self.shared.failed_connects.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(source = %self.label, next_delay_s = delay.as_secs_f64(),
                            "cannot connect to {}; retrying in {:.2} s", self.label, delay.as_secs_f64());
                        if stop.sleep(delay) {
                            return;
                        }
                        delay = (delay * 2).min(self.backoff_max);
                        continue;
                    }
                },
            };
            let seq_at_connect = seq;
            loop {
                if stop.is_set() {
                    return;
                }
                match capture::read(&mut cap) {
                    Ok(Some(image)) => {
                        if seq == seq_at_connect {
                            delay = self.backoff_min; // healthy again: restart the backoff
                        }
                        let frame = Frame { seq, captured: Instant::now(), t: self.start.elapsed().as_secs_f64(), image };
                        if !self.sink.push(frame, &stop) {
                            return;
                        }
                        seq += 1;
                    }
                    Ok(None) => {
                        tracing::warn!(source = %self.label, "stream stopped delivering frames; reconnecting");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(source = %self.label, error = %e, "read error; reconnecting");
                        break;
                    }
                }
            }
            drop(cap);
            if seq == seq_at_connect {
                // Connected but no frame came: back off so a bad endpoint is not hammered.
                tracing::warn!(source = %self.label, next_delay_s = delay.as_secs_f64(),
                    "{} connected but sent no frames; retrying in {:.2} s", self.label, delay.as_secs_f64());
                if stop.sleep(delay) {
                    return;
                }
                delay = (delay * 2).min(self.backoff_max);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("rtsp://u:pw@h:554/x"), "rtsp://u:***@h:554/x");
        assert_eq!(super::redact("rtsp://h:554/x@y"), "rtsp://h:554/x@y");
        assert_eq!(super::redact("http://h/x"), "http://h/x");
    }
}
