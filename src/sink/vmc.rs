//! VMC protocol Performer: sends each motion frame to an avatar app (VSeeFace, Warudo, VNyan,
//! VMagicMirror, EVMC4U; the "Marionette", default port 39539) as OSC over UDP.
//!
//! Per motion frame, in order: `/VMC/Ext/Root/Pos` (`"root"`, zero position, identity),
//! `/VMC/Ext/Bone/Pos` (`sfffffff`: Unity bone name, local position, local rotation) for every
//! mapped bone ([`super::unity`]), `/VMC/Ext/OK` (`i` 1, or `iiii` 1 3 0 tracking), and
//! `/VMC/Ext/T` (`f` stream time) exactly once. Only `f`, `i`, `s` tags; bundles of at most
//! 1472 bytes (two per frame for the body).

use std::path::{Path, PathBuf};

use rosc::{OscMessage, OscType};

use super::udp::{UdpOut, UdpSender};
use super::unity::{UnityConfig, UnityMapper};
use super::vrm::{read_vrm0, AvatarRig};
use super::{MotionFrame, Sink, SinkError, SinkStats};

/// Default Marionette address.
pub const DEFAULT_TARGET: &str = "127.0.0.1:39539";

/// VMC sender settings.
#[derive(Debug, Clone, PartialEq)]
pub struct VmcConfig {
    /// Receiver `host:port`.
    pub target: String,
    /// Maximum frames per second (stream time); `None`: send every frame.
    pub max_rate_hz: Option<f32>,
    /// Send `/VMC/Ext/OK` as `iiii` (loaded, calibrated, mode 0, tracking) instead of `i`.
    pub ok_with_tracking: bool,
    /// The avatar's VRM 0.x file (`sink.vmc.avatar`), read when the sender is built; its rig
    /// replaces `unity.avatar`. `None`: `unity.avatar` as given.
    pub avatar_path: Option<PathBuf>,
    pub unity: UnityConfig,
}

impl Default for VmcConfig {
    fn default() -> Self {
        Self { target: DEFAULT_TARGET.into(), max_rate_hz: None, ok_with_tracking: false, avatar_path: None, unity: UnityConfig::default() }
    }
}

/// The VMC Performer sink.
#[derive(Debug)]
pub struct VmcSender {
    out: UdpOut,
    mapper: UnityMapper,
    ok_with_tracking: bool,
}

fn msg(addr: &str, args: Vec<OscType>) -> OscMessage {
    OscMessage { addr: addr.to_string(), args }
}

impl VmcSender {
    /// Reads the avatar file when one is given, resolves `cfg.target` and opens the socket;
    /// errors name their key (`sink.vmc.avatar`, `sink.vmc.target`).
    pub fn new(cfg: &VmcConfig) -> Result<Self, SinkError> {
        let mapper = match &cfg.avatar_path {
            Some(path) => UnityMapper::new(&UnityConfig { avatar: Some(read_avatar(path)?), ..cfg.unity.clone() }),
            None => UnityMapper::new(&cfg.unity),
        };
        Ok(Self { out: UdpOut::for_key("sink.vmc.target", &cfg.target, cfg.max_rate_hz)?, mapper, ok_with_tracking: cfg.ok_with_tracking })
    }

    /// The receiver address.
    pub fn target(&self) -> std::net::SocketAddr {
        self.out.target()
    }

    /// The Unity bone names sent every frame.
    pub fn bone_names(&self) -> Vec<&'static str> {
        self.mapper.bones().iter().map(|b| b.unity).collect()
    }

    /// The VMC messages for one (sanitised) frame, in send order.
    pub fn messages(&mut self, frame: &MotionFrame) -> Vec<OscMessage> {
        let f = OscType::Float;
        let mut out = Vec::with_capacity(self.mapper.bones().len() + 3);
        out.push(msg("/VMC/Ext/Root/Pos", vec!["root".to_string().into(), f(0.0), f(0.0), f(0.0), f(0.0), f(0.0), f(0.0), f(1.0)]));
        for b in self.mapper.map(frame) {
            let [px, py, pz] = b.position;
            let [qx, qy, qz, qw] = b.rotation;
            out.push(msg("/VMC/Ext/Bone/Pos", vec![b.name.to_string().into(), f(px), f(py), f(pz), f(qx), f(qy), f(qz), f(qw)]));
        }
        let ok = if self.ok_with_tracking {
            let tracking = if frame.inferred { 0 } else { 1 };
            vec![OscType::Int(1), OscType::Int(3), OscType::Int(0), OscType::Int(tracking)]
        } else {
            vec![OscType::Int(1)]
        };
        out.push(msg("/VMC/Ext/OK", ok));
        out.push(msg("/VMC/Ext/T", vec![f(frame.t as f32)]));
        out
    }
}

/// Reads the `sink.vmc.avatar` file; a failure names the key and what to give.
fn read_avatar(path: &Path) -> Result<AvatarRig, SinkError> {
    read_vrm0(path).map_err(|e| {
        let reason = match e {
            SinkError::Vrm { reason, .. } => reason,
            SinkError::Io { source, .. } => format!("cannot read it: {source}"),
            e => e.to_string(),
        };
        let hint = "config key `sink.vmc.avatar`: give a VRM 0.x .vrm file, or \"\" for the SMPL proportions";
        SinkError::Vrm { path: path.to_path_buf(), reason: format!("{reason} ({hint})") }
    })
}

impl UdpSender for VmcSender {
    fn frame_messages(&mut self, clean: &MotionFrame) -> Vec<OscMessage> {
        self.messages(clean)
    }
    fn udp(&mut self) -> &mut UdpOut {
        &mut self.out
    }
}

impl Sink for VmcSender {
    fn send(&mut self, frame: &MotionFrame) -> Result<(), SinkError> {
        self.send_blocking(frame)
    }
    fn stats(&self) -> SinkStats {
        self.out.stats
    }
}
