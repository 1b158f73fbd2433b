//! Sinks: where finished motion frames go. Live senders ([`vmc`] for avatar apps, [`osc`] for
//! engines and tools) and recorders ([`bvh`], [`vrma`], [`motion`]), all behind one [`Sink`]
//! trait. [`take`] names each run's recordings so no take is ever overwritten; [`recover`]
//! rebuilds a crashed take's `.vrma` and BVH from its crash-safe `mocapd.motion/1` file.
//!
//! Every sink takes a [`MotionFrame`] (SMPL-24 local rotations, right-handed Y up), sanitises it
//! ([`MotionFrame::sanitized`]) so no NaN ever leaves, converts it for its target ([`unity`] for VMC) and counts
//! what happened in [`SinkStats`]. Network errors are counted and never stop a sender.

pub mod bvh;
pub mod glb;
pub mod humanoid;
pub mod motion;
pub mod osc;
pub mod recover;
pub mod take;
pub mod udp;
pub mod unity;
pub mod vmc;
pub mod vrm;
pub mod vrma;

use std::path::PathBuf;

use crate::motion::MotionFrame;

/// Why a sink failed. Network send failures are not errors (they are counted in
/// [`SinkStats::send_errors`]); these are the failures the caller must act on.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot open a UDP socket for {target}: {source}")]
    Socket { target: String, source: std::io::Error },
    #[error("cannot resolve `{target}` to a socket address: {reason}")]
    Address { target: String, reason: String },
    #[error("OSC message {addr} encodes to {bytes} bytes, more than a {max}-byte datagram")]
    MessageTooLarge { addr: String, bytes: usize, max: usize },
    #[error("cannot encode OSC packet: {0}")]
    Encode(String),
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("invalid VRM file {path}: {reason}")]
    Vrm { path: PathBuf, reason: String },
    #[error(transparent)]
    Motion(#[from] crate::motion::MotionFileError),
    #[error("nothing recorded: {0}")]
    Empty(String),
    #[error("sink already finished")]
    Finished,
}

/// What a sink did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// Frames sent or recorded.
    pub frames: u64,
    /// Frames skipped by a rate cap.
    pub skipped: u64,
    /// Non-finite values replaced, plus quaternions that had to be reset to identity.
    pub sanitized: u64,
    /// Datagrams handed to the OS.
    pub datagrams: u64,
    /// Datagrams the OS refused (receiver not listening, network down).
    pub send_errors: u64,
    /// Bytes sent or written.
    pub bytes: u64,
}

/// A consumer of motion frames.
pub trait Sink: Send {
    /// Take one frame. Senders return `Ok` when the network refuses a datagram (counted).
    fn send(&mut self, frame: &MotionFrame) -> Result<(), SinkError>;
    /// Push buffered data out (recorders: to disk, with a consistent file).
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    /// Complete the output (recorders write their trailer or file). Idempotent.
    fn finish(&mut self) -> Result<(), SinkError> {
        self.flush()
    }
    /// Counters so far.
    fn stats(&self) -> SinkStats;
}

/// Keeps every frame in memory (sanitised), for tests and previews.
#[derive(Debug, Default)]
pub struct MemorySink {
    pub frames: Vec<MotionFrame>,
    pub finished: bool,
    stats: SinkStats,
}

impl MemorySink {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Sink for MemorySink {
    fn send(&mut self, frame: &MotionFrame) -> Result<(), SinkError> {
        if self.finished {
            return Err(SinkError::Finished);
        }
        let (clean, fixed) = frame.sanitized();
        self.stats.sanitized += fixed;
        self.stats.frames += 1;
        self.frames.push(clean);
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        self.finished = true;
        Ok(())
    }
    fn stats(&self) -> SinkStats {
        self.stats
    }
}
