//! Loopback UDP receivers and what the tests decode from them: OSC messages (bundles
//! flattened) and VMC frames.

use std::collections::HashSet;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mocapd::sink::udp::MAX_DATAGRAM;
use rosc::{OscMessage, OscPacket};

/// Datagrams with their arrival times.
pub type Datagrams = Vec<(Instant, Vec<u8>)>;

/// A UDP receiver on 127.0.0.1 (a free port) that keeps every datagram with its arrival time, on
/// its own thread so that bursts do not overflow the socket buffer. Stops when dropped.
pub struct Receiver {
    /// `127.0.0.1:PORT`, for a sender's target.
    pub addr: String,
    got: Arc<Mutex<Datagrams>>,
    stop: Arc<AtomicBool>,
    started: Instant,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    pub fn start() -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        sock.set_read_timeout(Some(Duration::from_millis(20))).expect("read timeout");
        let addr = sock.local_addr().expect("addr").to_string();
        let got: Arc<Mutex<Datagrams>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (got, stop) = (Arc::clone(&got), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                while !stop.load(Relaxed) {
                    if let Ok((n, _)) = sock.recv_from(&mut buf) {
                        got.lock().unwrap_or_else(|e| e.into_inner()).push((Instant::now(), buf[..n].to_vec()));
                    }
                }
            })
        };
        Self { addr, got, stop, started: Instant::now(), thread: Some(thread) }
    }

    /// What has arrived so far.
    pub fn datagrams(&self) -> MutexGuard<'_, Datagrams> {
        self.got.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops receiving; every datagram that arrived.
    pub fn stop(mut self) -> Datagrams {
        self.join();
        std::mem::take(&mut *self.datagrams())
    }

    /// Waits until the sender has gone quiet (nothing for `quiet` after a first datagram) or
    /// `limit` has passed since the start, then stops.
    pub fn until_quiet(self, quiet: Duration, limit: Duration) -> Datagrams {
        loop {
            let last = self.datagrams().last().map(|(at, _)| *at);
            if last.is_some_and(|l| l.elapsed() > quiet) || self.started.elapsed() > limit {
                return self.stop();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn join(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("receiver thread");
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.join();
    }
}

/// A UDP port on 127.0.0.1 that nobody listens on (free a moment ago).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("free port").port()
}

/// The messages of an OSC packet, bundles flattened in order.
pub fn flatten(p: OscPacket, out: &mut Vec<OscMessage>) {
    match p {
        OscPacket::Message(m) => out.push(m),
        OscPacket::Bundle(b) => b.content.into_iter().for_each(|c| flatten(c, out)),
    }
}

/// Every message of `datagrams`; each datagram is one whole valid OSC packet that fits a UDP
/// payload on Ethernet ([`MAX_DATAGRAM`]).
pub fn osc_messages(datagrams: &[(Instant, Vec<u8>)]) -> Vec<OscMessage> {
    let mut out = Vec::new();
    for (_, d) in datagrams {
        assert!(d.len() <= MAX_DATAGRAM, "datagram of {} bytes", d.len());
        let (rest, p) = rosc::decoder::decode_udp(d).expect("valid OSC");
        assert!(rest.is_empty());
        flatten(p, &mut out);
    }
    out
}

/// A finite quaternion of length 1 within `tol`.
pub fn unit(q: [f32; 4], tol: f32) -> bool {
    q.iter().all(|v| v.is_finite()) && ((q.iter().map(|v| v * v).sum::<f32>()).sqrt() - 1.0).abs() < tol
}

/// One bone of a VMC frame: `/VMC/Ext/Bone/Pos`.
pub struct VmcBone {
    pub name: String,
    pub position: [f32; 3],
    /// x, y, z, w.
    pub rotation: [f32; 4],
}

/// One VMC frame: the bones sent before a `/VMC/Ext/T`, and when that time stamp arrived.
pub struct VmcFrame {
    pub at: Instant,
    pub bones: Vec<VmcBone>,
}

impl VmcFrame {
    /// How many different bones the frame moves.
    pub fn bone_count(&self) -> usize {
        self.bones.iter().map(|b| b.name.as_str()).collect::<HashSet<_>>().len()
    }
}

/// The VMC frames in `datagrams`, parsed with the `vmc` crate (split at `/VMC/Ext/T`; bones
/// after the last time stamp are left out).
pub fn vmc_frames(datagrams: &[(Instant, Vec<u8>)]) -> Vec<VmcFrame> {
    let mut frames = Vec::new();
    let mut bones = Vec::new();
    for (at, d) in datagrams {
        let (_, packet) = rosc::decoder::decode_udp(d).expect("osc");
        for m in vmc::parse(packet).expect("vmc::parse") {
            match m {
                vmc::Message::BoneTransform(b) => bones.push(VmcBone {
                    name: b.bone,
                    position: [b.position.x, b.position.y, b.position.z],
                    rotation: [b.rotation.x, b.rotation.y, b.rotation.z, b.rotation.w],
                }),
                vmc::Message::Time(_) => frames.push(VmcFrame { at: *at, bones: std::mem::take(&mut bones) }),
                _ => {}
            }
        }
    }
    frames
}
