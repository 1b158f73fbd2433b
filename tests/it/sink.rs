//! Live sink tests against real third-party parsers, loopback only: VMC through the `vmc` crate
//! and the strict python-osc validator, plain OSC through `rosc`, NaN never on the wire, rate caps
//! and the Unity mapping. The recorders are tested in `recordings`.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;
use std::time::Duration;

use crate::support::data::{fetched_file, try_fetched};
use crate::support::manifest_dir;
use crate::support::udp::{free_udp_port, osc_messages, unit, Datagrams, Receiver};

use mocapd::motion::Motion;
use mocapd::motion::MotionFrame;
use mocapd::sink::osc::{OscConfig, OscSender};
use mocapd::sink::unity::{to_unity_pos, UnityConfig, UnityMapper};
use mocapd::sink::vmc::{VmcConfig, VmcSender};
use mocapd::sink::{glb, humanoid, vrm, MemorySink, Sink};
use mocapd::skeleton::rotation::{axis_angle_to_quat, quat_mul, quat_rotate, Quat, Vec3};
use mocapd::skeleton::smpl::{JOINT_NAMES, NUM_JOINTS};
use mocapd::skeleton::smpl_fk;
use rosc::OscType;

const HUMAN_BODY_BONES: &str = "Hips LeftUpperLeg RightUpperLeg LeftLowerLeg RightLowerLeg LeftFoot RightFoot Spine \
    Chest UpperChest Neck Head LeftShoulder RightShoulder LeftUpperArm RightUpperArm LeftLowerArm RightLowerArm \
    LeftHand RightHand LeftToes RightToes LeftEye RightEye Jaw";

/// CMU 01_01 retargeted onto SMPL-24 (from the test-data cache, `support::data`), or `None`
/// when it cannot be had (offline).
pub(crate) fn real_clip() -> Option<&'static Motion> {
    static CLIP: std::sync::OnceLock<Option<Motion>> = std::sync::OnceLock::new();
    CLIP.get_or_init(|| {
        if let Err(e) = try_fetched() {
            eprintln!("motion: cannot fetch the test data: {e}");
            return None;
        }
        let path = fetched_file("01_01.bvh");
        match mocapd::data::sources::load_file(path, None, "01_01") {
            Ok((m, _)) => Some(m),
            Err(e) => {
                eprintln!("motion: cannot load {}: {e}", path.display());
                None
            }
        }
    })
    .as_ref()
}

/// The first `frames` frames of a real clip, else a synthetic walk-like motion with every
/// joint moving.
pub(crate) fn motion(frames: usize) -> Motion {
    if let Some(m) = real_clip().filter(|m| m.len() >= frames) {
        return Motion { fps: m.fps, root: m.root[..frames].to_vec(), rotations: m.rotations[..frames].to_vec() };
    }
    eprintln!("motion: synthetic (no real clip)");
    let fps = 30.0;
    let mut m = Motion { fps, root: Vec::new(), rotations: Vec::new() };
    for f in 0..frames {
        let t = f as f32 / fps;
        let s = (t * 2.0 * std::f32::consts::PI).sin();
        let rot: [Quat; NUM_JOINTS] = std::array::from_fn(|j| {
            let a = 0.3 * (t * (1.0 + j as f32 * 0.37) + j as f32).sin();
            let b = 0.2 * (t * 1.3 + j as f32 * 0.5).cos();
            axis_angle_to_quat([a, b + if j == 0 { 0.5 * t } else { 0.0 }, 0.5 * a * b])
        });
        let mut rot = rot;
        rot[4] = axis_angle_to_quat([0.6 * (s + 1.0), 0.0, 0.0]);
        rot[5] = axis_angle_to_quat([0.6 * (1.0 - s), 0.0, 0.0]);
        m.root.push([0.1 * s, 0.92 + 0.02 * s, 0.8 * t]);
        m.rotations.push(rot);
    }
    m
}

pub(crate) fn frames(n: usize) -> Vec<MotionFrame> {
    let m = motion(n);
    (0..m.len()).filter_map(|i| m.frame(i)).collect()
}

/// Every datagram that reached `rx`, once the sender has gone quiet.
fn received(rx: Receiver) -> Datagrams {
    rx.until_quiet(Duration::from_millis(400), Duration::from_secs(10))
}

#[test]
fn vmc_frames_parse_with_the_vmc_crate() {
    let rx = Receiver::start();
    let mut sender = VmcSender::new(&VmcConfig { target: rx.addr.clone(), ..VmcConfig::default() }).expect("sender");
    let names = sender.bone_names();
    assert_eq!(names.len(), 21, "21 bones without UpperChest");
    assert!(!names.contains(&"UpperChest"));
    let input = frames(60);
    for f in &input {
        sender.send(f).expect("send");
        std::thread::sleep(Duration::from_millis(1));
    }
    let datagrams = received(rx);
    assert_eq!(sender.stats().frames, 60);
    assert_eq!(sender.stats().send_errors, 0);
    assert_eq!(datagrams.len() as u64, sender.stats().datagrams);
    assert!(datagrams.len() >= 120, "two bundles per frame, got {}", datagrams.len());

    // Only f/i/s tags on the wire.
    for m in osc_messages(&datagrams) {
        for a in &m.args {
            assert!(matches!(a, OscType::Float(_) | OscType::Int(_) | OscType::String(_)), "{}: {a:?}", m.addr);
        }
    }
    let valid: BTreeSet<&str> = HUMAN_BODY_BONES.split_whitespace().collect();
    type Bones = HashMap<String, ([f32; 3], [f32; 4])>;
    let mut per_frame: Vec<Bones> = vec![HashMap::new()];
    let mut times = 0;
    for (_, d) in &datagrams {
        let (_, packet) = rosc::decoder::decode_udp(d).expect("osc");
        for msg in vmc::parse(packet).expect("vmc::parse accepts every datagram") {
            match msg {
                vmc::Message::BoneTransform(b) => {
                    assert!(valid.contains(b.bone.as_str()), "not a HumanBodyBones name: {}", b.bone);
                    let p = [b.position.x, b.position.y, b.position.z];
                    let q = [b.rotation.x, b.rotation.y, b.rotation.z, b.rotation.w];
                    assert!(p.iter().all(|v| v.is_finite()) && unit(q, 1e-4), "{}: {p:?} {q:?}", b.bone);
                    let cur = per_frame.last_mut().expect("frame");
                    assert!(cur.insert(b.bone.clone(), (p, q)).is_none(), "{} twice in a frame", b.bone);
                }
                vmc::Message::Time(_) => {
                    times += 1;
                    per_frame.push(HashMap::new());
                }
                vmc::Message::RootTransform(r) => assert_eq!(r.rotation.w, 1.0),
                vmc::Message::State(s) => assert_eq!(s.model_state, vmc::ModelState::Loaded),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(times, 60, "exactly one /VMC/Ext/T per frame");
    assert!(per_frame.pop().is_some_and(|m| m.is_empty()));
    for (k, bones) in per_frame.iter().enumerate() {
        let got: BTreeSet<&str> = bones.keys().map(|s| s.as_str()).collect();
        let want: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(got, want, "frame {k}");
        for (name, (p, _)) in bones {
            assert!(p.iter().any(|v| v.abs() > 1e-3), "{name}: zero local position");
        }
        // Handedness: Unity FK down the left leg is the mirrored SMPL FK.
        let smpl = smpl_fk(&input[k].rotations, input[k].root);
        let mut pos = bones["Hips"].0;
        let mut rot = bones["Hips"].1;
        for (name, j) in [("LeftUpperLeg", 1), ("LeftLowerLeg", 4), ("LeftFoot", 7), ("LeftToes", 10)] {
            let (p, q) = bones[name];
            pos = std::array::from_fn(|c| pos[c] + quat_rotate(rot, p)[c]);
            rot = quat_mul(rot, q);
            let want = to_unity_pos(smpl[j]);
            for c in 0..3 {
                assert!((pos[c] - want[c]).abs() < 1e-4, "frame {k} {name}: {pos:?} vs {want:?}");
            }
        }
    }
}

/// Python 3 with the python-osc that tools/setup.sh installs into .local/python.
fn python3() -> Command {
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONPATH", manifest_dir().join(".local/python"));
    cmd
}

#[test]
fn vmc_passes_the_strict_python_validator() {
    let ok = python3().args(["-c", "import pythonosc"]).status().is_ok_and(|s| s.success());
    assert!(ok, "python-osc missing from .local/python: run tools/setup.sh");
    let port = free_udp_port();
    let script = manifest_dir().join("tests/it/support/vmc_validate_recv.py");
    let child =
        python3().arg(&script).args([port.to_string(), "3".into()]).stdout(std::process::Stdio::piped()).spawn().expect("start validator");
    let cfg = VmcConfig { target: format!("127.0.0.1:{port}"), ok_with_tracking: true, ..VmcConfig::default() };
    let mut sender = VmcSender::new(&cfg).expect("sender");
    // Start sending after the validator is up; a refused datagram is only counted.
    std::thread::sleep(Duration::from_millis(1000));
    for f in frames(60) {
        sender.send(&f).expect("send");
        std::thread::sleep(Duration::from_millis(15));
    }
    let out = child.wait_with_output().expect("validator ran");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    assert!(out.status.success(), "validator failed: {text}");
    let summary: serde_json::Value = serde_json::from_str(&text).expect("JSON summary");
    let t = summary["counts"]["/VMC/Ext/T"].as_u64().unwrap_or(0);
    assert!(t >= 30, "validator saw only {t} frames");
    assert_eq!(summary["counts"]["/VMC/Ext/Bone/Pos"].as_u64(), Some(t * 21));
    assert!(summary["max_datagram_bytes"].as_u64().is_some_and(|n| n <= 1472));
}

#[test]
fn osc_address_space_decodes_with_rosc() {
    let rx = Receiver::start();
    let mut sender = OscSender::new(&OscConfig { target: rx.addr.clone(), max_rate_hz: None }).expect("sender");
    let input = frames(10);
    for f in &input {
        sender.send(f).expect("send");
    }
    let msgs = osc_messages(&received(rx));
    assert_eq!(msgs.len(), 10 * (NUM_JOINTS + 3));
    let per = NUM_JOINTS + 3;
    for (k, chunk) in msgs.chunks(per).enumerate() {
        assert_eq!(chunk[0].addr, "/mocapd/frame");
        assert_eq!(chunk[0].args, vec![OscType::Int(k as i32), OscType::Float(input[k].t as f32)]);
        assert_eq!(chunk[1].addr, "/mocapd/root");
        assert_eq!(chunk[1].args, input[k].root.iter().map(|v| OscType::Float(*v)).collect::<Vec<_>>());
        for j in 0..NUM_JOINTS {
            let m = &chunk[2 + j];
            assert_eq!(m.addr, format!("/mocapd/joint/{}", JOINT_NAMES[j]));
            let q: Vec<f32> = m.args.iter().map(|a| a.clone().float().expect("float")).collect();
            let q: [f32; 4] = q.try_into().expect("ffff");
            assert!(unit(q, 1e-4));
            let dot: f32 = q.iter().zip(input[k].rotations[j].iter()).map(|(a, b)| a * b).sum();
            assert!(dot.abs() > 0.9999, "joint {j}: same rotation up to sign");
        }
        assert_eq!(chunk[per - 1].addr, "/mocapd/contacts");
        assert_eq!(chunk[per - 1].args.len(), 4);
    }
}

#[test]
fn sender_to_a_closed_port_keeps_going_and_counts_errors() {
    let target = format!("127.0.0.1:{}", free_udp_port());
    let mut vmc = VmcSender::new(&VmcConfig { target: target.clone(), ..VmcConfig::default() }).expect("vmc");
    let mut osc = OscSender::new(&OscConfig { target, max_rate_hz: None }).expect("osc");
    for f in frames(40) {
        vmc.send(&f).expect("a dead receiver is not an error");
        osc.send(&f).expect("a dead receiver is not an error");
        std::thread::sleep(Duration::from_millis(2));
    }
    for s in [vmc.stats(), osc.stats()] {
        assert_eq!(s.frames, 40);
        assert!(s.send_errors > 0, "ICMP port unreachable should surface as counted errors: {s:?}");
    }
}

#[test]
fn nan_never_leaves_on_the_wire() {
    let mut bad = MotionFrame::rest(7, 0.5);
    bad.root = [f32::NAN, 1.0, f32::INFINITY];
    bad.rotations[4] = [f32::NAN, 0.0, 0.0, 1.0];
    bad.rotations[6] = [0.0, 0.0, 0.0, 0.0];
    bad.rotations[16] = [0.0, 0.0, 2.0, 0.0];
    bad.contacts = [f32::NAN, 2.0, -1.0, 0.5];
    let (clean, fixed) = bad.sanitized();
    assert!(clean.is_clean(1e-5));
    assert_eq!(fixed, 5);
    assert_eq!(clean.rotations[16], [0.0, 0.0, 1.0, 0.0]);
    assert_eq!(clean.contacts, [0.0, 1.0, 0.0, 0.5]);

    let rx = Receiver::start();
    let mut vmc = VmcSender::new(&VmcConfig { target: rx.addr.clone(), ..VmcConfig::default() }).expect("vmc");
    let mut osc = OscSender::new(&OscConfig { target: rx.addr.clone(), max_rate_hz: None }).expect("osc");
    vmc.send(&bad).expect("send");
    osc.send(&bad).expect("send");
    assert!(vmc.stats().sanitized > 0 && osc.stats().sanitized > 0);
    let msgs = osc_messages(&received(rx));
    assert!(msgs.len() > 40);
    for m in msgs {
        for a in m.args {
            if let OscType::Float(v) = a {
                assert!(v.is_finite(), "{}: {v}", m.addr);
            }
        }
    }
    let mut mem = MemorySink::new();
    mem.send(&bad).expect("send");
    assert!(mem.frames[0].is_clean(1e-5));
    assert_eq!(mem.stats().sanitized, 5);
}

#[test]
fn rate_cap_skips_frames() {
    let rx = Receiver::start();
    let mut vmc = VmcSender::new(&VmcConfig { target: rx.addr.clone(), max_rate_hz: Some(30.0), ..VmcConfig::default() }).expect("vmc");
    for k in 0..60 {
        vmc.send(&MotionFrame::rest(k, k as f64 / 60.0)).expect("send");
    }
    let s = vmc.stats();
    assert_eq!((s.frames, s.skipped), (30, 30));
    let times = osc_messages(&received(rx)).iter().filter(|m| m.addr == "/VMC/Ext/T").count();
    assert_eq!(times, 30);
}

#[test]
fn unity_mapping_upper_chest_and_avatar_offsets() {
    let with = UnityMapper::new(&UnityConfig { upper_chest: true, ..UnityConfig::default() });
    assert_eq!(with.bones().len(), 22);
    // A VRM 0.x avatar: hips at 1.0 m, a left upper leg 0.1 m to the side, a root node above.
    let json = serde_json::json!({
        "asset": {"version": "2.0"},
        "nodes": [
            {"name": "root", "children": [1]},
            {"name": "J_Hips", "translation": [0.0, 1.0, 0.0], "children": [2, 3]},
            {"name": "J_LUL", "translation": [-0.1, -0.05, 0.02]},
            {"name": "J_Spine", "translation": [0.0, 0.1, -0.01]},
        ],
        "extensions": {"VRM": {"humanoid": {"humanBones": [
            {"bone": "hips", "node": 1}, {"bone": "leftUpperLeg", "node": 2}, {"bone": "spine", "node": 3}
        ]}}}
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("avatar.vrm");
    std::fs::write(&path, glb::encode(&json, &[]).expect("glb")).expect("write");
    let rig = vrm::read_vrm0(&path).expect("reads VRM0");
    assert_eq!(rig.position("LeftUpperLeg"), Some([-0.1, 0.95, -0.02]));
    let mut m = UnityMapper::new(&UnityConfig { avatar: Some(rig), ..UnityConfig::default() });
    assert!((m.hips_scale() - 1.0 / humanoid::smpl_hips_height()).abs() < 1e-6);
    let bones = m.map(&MotionFrame::rest(0, 0.0));
    let get = |n: &str| bones.iter().find(|b| b.name == n).map(|b| b.position).expect("bone");
    let close = |a: Vec3, b: Vec3| a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() < 1e-6);
    assert!(close(get("LeftUpperLeg"), [-0.1, -0.05, -0.02]), "the avatar's offset, z negated");
    assert!(close(get("Spine"), [0.0, 0.1, 0.01]));
    // Bones the avatar lacks fall back to mirrored SMPL rest offsets.
    assert_eq!(get("LeftLowerLeg"), to_unity_pos(humanoid::rest_offset(4, false)));
    assert!(get("LeftLowerLeg")[1] < -0.3);
    assert!(get("LeftUpperArm")[0] < 0.0, "subject's left is -X in Unity");
}
