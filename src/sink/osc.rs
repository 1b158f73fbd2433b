//! Plain OSC for game engines and tools (TouchDesigner, Godot, Unreal, Max/MSP): SMPL joint
//! names, SMPL's own frame, no retargeting. OSC 1.0 over UDP, bundles of at most 1472 bytes;
//! send errors are counted, never fatal.
//!
//! # Address space
//! Per motion frame, in this order (all floats `f` = float32, ints `i` = int32):
//!
//! | address | tags | arguments |
//! |---|---|---|
//! | `/mocapd/frame` | `if` | frame number, stream time in seconds |
//! | `/mocapd/root` | `fff` | pelvis world position x y z (metres, feet on the floor at y = 0) |
//! | `/mocapd/joint/<smpl_name>` | `ffff` | local rotation quaternion x y z w, relative to the parent joint |
//! | `/mocapd/contacts` | `ffff` | foot contact 0..1: left ankle, left foot (toe), right ankle, right foot, as in the training target |
//!
//! `<smpl_name>` is each of the 24 SMPL joints in SMPL order: `pelvis` (global orientation),
//! `left_hip`, `right_hip`, `spine1`, `left_knee`, `right_knee`, `spine2`, `left_ankle`,
//! `right_ankle`, `spine3`, `left_foot`, `right_foot`, `neck`, `left_collar`, `right_collar`,
//! `head`, `left_shoulder`, `right_shoulder`, `left_elbow`, `right_elbow`, `left_wrist`,
//! `right_wrist`, `left_hand`, `right_hand`. Coordinates are SMPL's: right-handed, Y up, the
//! performer faces +Z, their left is +X; identity rotations are the T-pose. Quaternions are unit
//! length and sign-continuous; values are never NaN.

use rosc::{OscMessage, OscType};

use super::udp::{UdpOut, UdpSender};
use super::{MotionFrame, Sink, SinkError, SinkStats};
use crate::motion::frame::keep_sign;
use crate::skeleton::rotation::Quat;
use crate::skeleton::smpl::{JOINT_NAMES, NUM_JOINTS};

/// Default receiver address.
pub const DEFAULT_TARGET: &str = "127.0.0.1:9000";

/// OSC sender settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OscConfig {
    /// Receiver `host:port`.
    pub target: String,
    /// Maximum frames per second (stream time); `None`: send every frame.
    pub max_rate_hz: Option<f32>,
}

impl Default for OscConfig {
    fn default() -> Self {
        Self { target: DEFAULT_TARGET.into(), max_rate_hz: None }
    }
}

/// The plain-OSC sink.
#[derive(Debug)]
pub struct OscSender {
    out: UdpOut,
    prev: Option<[Quat; NUM_JOINTS]>,
}

impl OscSender {
    /// Resolves `cfg.target` and opens the socket (errors name `sink.osc.target`).
    pub fn new(cfg: &OscConfig) -> Result<Self, SinkError> {
        Ok(Self { out: UdpOut::for_key("sink.osc.target", &cfg.target, cfg.max_rate_hz)?, prev: None })
    }

    /// The messages for one (sanitised) frame, in send order.
    pub fn messages(&mut self, frame: &MotionFrame) -> Vec<OscMessage> {
        let f = OscType::Float;
        let m = |addr: String, args: Vec<OscType>| OscMessage { addr, args };
        let mut rotations = frame.rotations;
        if let Some(prev) = &self.prev {
            keep_sign(prev, &mut rotations);
        }
        self.prev = Some(rotations);
        let mut out = Vec::with_capacity(NUM_JOINTS + 3);
        // OSC ints are 32-bit: the frame number wraps rather than failing.
        out.push(m("/mocapd/frame".into(), vec![OscType::Int(frame.frame as u32 as i32), f(frame.t as f32)]));
        out.push(m("/mocapd/root".into(), frame.root.iter().map(|v| f(*v)).collect()));
        for (name, q) in JOINT_NAMES.iter().zip(rotations.iter()) {
            out.push(m(format!("/mocapd/joint/{name}"), q.iter().map(|v| f(*v)).collect()));
        }
        out.push(m("/mocapd/contacts".into(), frame.contacts.iter().map(|v| f(*v)).collect()));
        out
    }
}

impl UdpSender for OscSender {
    fn frame_messages(&mut self, clean: &MotionFrame) -> Vec<OscMessage> {
        self.messages(clean)
    }
    fn udp(&mut self) -> &mut UdpOut {
        &mut self.out
    }
}

impl Sink for OscSender {
    fn send(&mut self, frame: &MotionFrame) -> Result<(), SinkError> {
        self.send_blocking(frame)
    }
    fn stats(&self) -> SinkStats {
        self.out.stats
    }
}
