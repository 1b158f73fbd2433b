//! OSC over UDP for the live senders: packing messages into bundles that each fit one
//! 1472-byte datagram, an optional rate cap, and send errors that are counted and warned about
//! (rate-limited) but never stop the sender (the socket is connected, so a receiver that is
//! not listening makes Linux return ECONNREFUSED on a later send). Building a frame's
//! datagrams ([`UdpSender::datagrams`]) is apart from sending them, so the same sender works
//! synchronously ([`super::Sink::send`]) and from the daemon's async fan-out
//! ([`UdpOut::async_socket`], then [`UdpOut::sent`] per datagram).

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use rosc::{encoder, OscBundle, OscMessage, OscPacket, OscTime};

use super::{MotionFrame, Sink, SinkError, SinkStats};

/// Largest datagram sent: 1500-byte Ethernet MTU minus IPv4 and UDP headers.
pub const MAX_DATAGRAM: usize = 1472;
/// `#bundle\0` plus the 8-byte timetag.
const BUNDLE_HEADER: usize = 16;
/// Minimum time between two warnings about failed sends.
const WARN_EVERY: Duration = Duration::from_secs(5);

/// Resolve `host:port`.
pub fn resolve(target: &str) -> Result<SocketAddr, SinkError> {
    let addr_err = |reason: String| SinkError::Address { target: target.to_string(), reason };
    target.to_socket_addrs().map_err(|e| addr_err(e.to_string()))?.next().ok_or_else(|| addr_err("no address".into()))
}

/// Encode `messages` as OSC bundles (immediate timetag), in order, each at most
/// [`MAX_DATAGRAM`] bytes.
pub fn pack(messages: Vec<OscMessage>) -> Result<Vec<Vec<u8>>, SinkError> {
    let mut datagrams = Vec::new();
    let mut content: Vec<OscPacket> = Vec::new();
    let mut size = BUNDLE_HEADER;
    for m in messages {
        let packet = OscPacket::Message(m);
        let len = encoder::encode(&packet).map_err(|e| SinkError::Encode(e.to_string()))?.len();
        if BUNDLE_HEADER + 4 + len > MAX_DATAGRAM {
            let addr = match packet {
                OscPacket::Message(m) => m.addr,
                OscPacket::Bundle(_) => String::new(),
            };
            return Err(SinkError::MessageTooLarge { addr, bytes: len, max: MAX_DATAGRAM });
        }
        if size + 4 + len > MAX_DATAGRAM {
            datagrams.push(bundle(std::mem::take(&mut content))?);
            size = BUNDLE_HEADER;
        }
        size += 4 + len;
        content.push(packet);
    }
    if !content.is_empty() {
        datagrams.push(bundle(content)?);
    }
    Ok(datagrams)
}

fn bundle(content: Vec<OscPacket>) -> Result<Vec<u8>, SinkError> {
    let b = OscPacket::Bundle(OscBundle { timetag: OscTime { seconds: 0, fractional: 1 }, content });
    encoder::encode(&b).map_err(|e| SinkError::Encode(e.to_string()))
}

/// A UDP socket aimed at one receiver, with counters.
#[derive(Debug)]
pub struct UdpOut {
    socket: UdpSocket,
    target: SocketAddr,
    /// Minimum stream time between sent frames (rate cap), seconds.
    min_interval: f64,
    last_t: Option<f64>,
    last_warn: Option<Instant>,
    errors_since_warn: u64,
    pub stats: SinkStats,
}

impl UdpOut {
    /// Open a socket for `target` (`host:port`); `max_rate_hz` caps frames per second of
    /// stream time (`None` or non-positive: no cap).
    pub fn new(target: &str, max_rate_hz: Option<f32>) -> Result<Self, SinkError> {
        let target_addr = resolve(target)?;
        let bind = if target_addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
        let sock_err = |source| SinkError::Socket { target: target.to_string(), source };
        let socket = UdpSocket::bind(bind).map_err(sock_err)?;
        // Connected, so the kernel reports ICMP port-unreachable as ECONNREFUSED on a later
        // send (an unconnected socket drops it silently): the error is counted, not fatal.
        socket.connect(target_addr).map_err(sock_err)?;
        let min_interval = match max_rate_hz {
            Some(hz) if hz.is_finite() && hz > 0.0 => 1.0 / hz as f64,
            _ => 0.0,
        };
        Ok(Self {
            socket,
            target: target_addr,
            min_interval,
            last_t: None,
            last_warn: None,
            errors_since_warn: 0,
            stats: SinkStats::default(),
        })
    }

    /// [`UdpOut::new`] for the sender configured at `key` (e.g. `sink.vmc.target`): a target
    /// that does not resolve is reported with the key and what to give.
    pub fn for_key(key: &str, target: &str, max_rate_hz: Option<f32>) -> Result<Self, SinkError> {
        Self::new(target, max_rate_hz).map_err(|e| match e {
            SinkError::Address { target, reason } => SinkError::Address {
                target,
                reason: format!("{reason} (config key `{key}`: give the receiver's host:port, with a host name this machine resolves)"),
            },
            e => e,
        })
    }

    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The frame to send, sanitised (no NaN ever goes on the wire), or `None` when the rate cap
    /// skips it. Pack its messages with [`UdpOut::pack_frame`].
    pub fn admit_clean(&mut self, frame: &MotionFrame) -> Option<MotionFrame> {
        if !self.admit(frame.t) {
            return None;
        }
        let (clean, fixed) = frame.sanitized();
        self.stats.sanitized += fixed;
        Some(clean)
    }

    /// Packs one frame's messages into datagrams of at most 1472 bytes, counting the frame.
    pub fn pack_frame(&mut self, messages: Vec<OscMessage>) -> Result<Vec<Vec<u8>>, SinkError> {
        let datagrams = pack(messages)?;
        self.stats.frames += 1;
        Ok(datagrams)
    }

    /// The same connected socket for tokio (a duplicate descriptor, switched to non-blocking;
    /// send only through it from then on). Must be called inside a tokio runtime.
    pub fn async_socket(&self) -> Result<tokio::net::UdpSocket, SinkError> {
        let sock_err = |source| SinkError::Socket { target: self.target.to_string(), source };
        let dup = self.socket.try_clone().map_err(sock_err)?;
        dup.set_nonblocking(true).map_err(sock_err)?;
        tokio::net::UdpSocket::from_std(dup).map_err(sock_err)
    }

    /// Whether a frame at stream time `t` passes the rate cap (counts a skip otherwise).
    pub fn admit(&mut self, t: f64) -> bool {
        if let Some(last) = self.last_t {
            // A small tolerance so 60 Hz input passes a 60 Hz cap despite rounding.
            if t >= last && t - last < self.min_interval * 0.999 {
                self.stats.skipped += 1;
                return false;
            }
        }
        self.last_t = Some(t);
        true
    }

    /// Send datagrams; failures are counted and warned about at most every 5 s.
    pub fn send_all(&mut self, datagrams: &[Vec<u8>]) {
        for d in datagrams {
            let r = self.socket.send(d);
            self.sent(r);
        }
    }

    /// Counts one datagram's send result (failures warned about at most every 5 s).
    pub fn sent(&mut self, r: std::io::Result<usize>) {
        match r {
            Ok(n) => {
                self.stats.datagrams += 1;
                self.stats.bytes += n as u64;
            }
            Err(e) => self.send_failed(&e),
        }
    }

    fn send_failed(&mut self, e: &std::io::Error) {
        self.stats.send_errors += 1;
        self.errors_since_warn += 1;
        let due = self.last_warn.is_none_or(|w| w.elapsed() >= WARN_EVERY);
        if due {
            tracing::warn!(
                target = %self.target,
                failed = self.errors_since_warn,
                total = self.stats.send_errors,
                "UDP send failed ({e}); is the receiver running? still sending"
            );
            self.last_warn = Some(Instant::now());
            self.errors_since_warn = 0;
        } else {
            tracing::trace!(target = %self.target, "UDP send failed: {e}");
        }
    }
}

/// A live OSC-over-UDP sender (VMC, plain OSC): builds each frame's datagrams apart from
/// sending them (the `sinks` runtime sends them on its own socket).
pub trait UdpSender: Sink {
    /// The messages of one admitted, sanitised frame.
    fn frame_messages(&mut self, clean: &MotionFrame) -> Vec<OscMessage>;
    /// The socket and counters.
    fn udp(&mut self) -> &mut UdpOut;

    /// One frame's datagrams, sanitised and packed (none when the rate cap skips it).
    fn datagrams(&mut self, frame: &MotionFrame) -> Result<Vec<Vec<u8>>, SinkError> {
        let Some(clean) = self.udp().admit_clean(frame) else { return Ok(vec![]) };
        let messages = self.frame_messages(&clean);
        self.udp().pack_frame(messages)
    }

    /// Builds and sends one frame on the blocking socket (what `Sink::send` does).
    fn send_blocking(&mut self, frame: &MotionFrame) -> Result<(), SinkError> {
        let datagrams = self.datagrams(frame)?;
        self.udp().send_all(&datagrams);
        Ok(())
    }
}
