//! Sink tests against real third-party parsers, loopback only: VMC through the `vmc` crate and
//! the strict python-osc validator, plain OSC through `rosc`, BVH re-read with the project's
//! reader (and Blender when installed), `.vrma` parsed back as glTF binary; the recorders' crash
//! safety (cut files, no overwrite, empty takes) and `mocapd recover` at the library level.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::support::blender::blender_import;
use crate::support::data::{fetched_file, try_fetched};
use crate::support::manifest_dir;
use crate::support::udp::{free_udp_port, osc_messages, unit, Datagrams, Receiver};

use mocapd::bvh::Bvh;
use mocapd::motion::bvh::Units;
use mocapd::motion::Motion;
use mocapd::motion::MotionFrame;
use mocapd::sink::bvh::BvhRecorder;
use mocapd::sink::osc::{OscConfig, OscSender};
use mocapd::sink::unity::{to_unity_pos, UnityConfig, UnityMapper};
use mocapd::sink::vmc::{VmcConfig, VmcSender};
use mocapd::sink::vrma::VrmaRecorder;
use mocapd::sink::{glb, humanoid, vrm, MemorySink, Sink};
use mocapd::skeleton::forward_kinematics;
use mocapd::skeleton::rotation::{axis_angle_to_quat, quat_mul, quat_rotate, Quat, Vec3};
use mocapd::skeleton::smpl::{JOINT_NAMES, NUM_JOINTS};
use mocapd::skeleton::smpl_fk;
use rosc::OscType;

const HUMAN_BODY_BONES: &str = "Hips LeftUpperLeg RightUpperLeg LeftLowerLeg RightLowerLeg LeftFoot RightFoot Spine \
    Chest UpperChest Neck Head LeftShoulder RightShoulder LeftUpperArm RightUpperArm LeftLowerArm RightLowerArm \
    LeftHand RightHand LeftToes RightToes LeftEye RightEye Jaw";

/// CMU 01_01 retargeted onto SMPL-24 (from the test-data cache, `support::data`), or `None`
/// when it cannot be had (offline).
fn real_clip() -> Option<&'static Motion> {
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
fn motion(frames: usize) -> Motion {
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

fn frames(n: usize) -> Vec<MotionFrame> {
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

fn bvh_positions(bvh: &Bvh, frame: usize, scale: f32) -> Vec<(String, Vec3)> {
    let (t, q) = bvh.local_pose(frame).expect("frame");
    let posed = forward_kinematics(&bvh.parents(), &t, &q, t[0]);
    bvh.joints.iter().zip(posed.positions).map(|(j, p)| (j.name.clone(), p.map(|v| v / scale))).collect()
}

fn assert_bvh_matches(bvh: &Bvh, input: &[MotionFrame], scale: f32) {
    assert_eq!(bvh.joints.len(), NUM_JOINTS);
    assert_eq!(bvh.joints[0].name, "Hips");
    assert_eq!(bvh.joints[0].channels.len(), 6);
    for (k, f) in input.iter().enumerate().take(bvh.frames.len()) {
        let want = smpl_fk(&f.rotations, f.root);
        for (name, p) in bvh_positions(bvh, k, scale) {
            let j = if name == "Hips" { 0 } else { JOINT_NAMES.iter().position(|n| *n == name).expect("SMPL name") };
            for c in 0..3 {
                assert!((p[c] - want[j][c]).abs() < 1e-3, "frame {k} {name}: {p:?} vs {:?}", want[j]);
            }
        }
    }
}

#[test]
fn bvh_recording_rereads_with_the_same_motion() {
    let input = frames(90);
    let dir = tempfile::tempdir().expect("tempdir");
    for (units, scale) in [(Units::Metres, 1.0), (Units::Centimetres, 100.0)] {
        let path = dir.path().join(format!("rec_{scale}.bvh"));
        let mut rec = BvhRecorder::create(&path, units, 30.0).expect("create");
        for f in &input {
            rec.send(f).expect("send");
        }
        rec.finish().expect("finish");
        assert!(rec.send(&input[0]).is_err(), "no frames after finish");
        let bvh = Bvh::read(&path).expect("re-reads");
        assert_eq!(bvh.frames.len(), 90);
        assert!((bvh.fps() - 30.0).abs() < 1e-6);
        assert_bvh_matches(&bvh, &input, scale);
        blender_import(&path, bvh.joints.len(), 90);
        // mocapd reads its own recording back as SMPL-24 motion (what `mocapd data preview` loads).
        let (clip, rig, m) = mocapd::data::preview::load_clip(path.to_str().expect("utf-8"), None, dir.path(), 0).expect("loads");
        assert_eq!((clip.as_str(), rig.as_str(), m.len()), (path.to_str().expect("utf-8"), "smpl", 90));
        let joints = |f: &MotionFrame| f.joints();
        let first = m.frame(0).expect("frame 0");
        let lift = input[0].root[1] - first.root[1]; // load_clip puts the feet on the floor
        for (a, b) in joints(&first).iter().zip(joints(&input[0]).iter()) {
            assert!((a[0] - b[0]).abs() < 1e-3 && (a[1] + lift - b[1]).abs() < 1e-3 && (a[2] - b[2]).abs() < 1e-3, "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn bvh_cut_by_a_crash_imports_up_to_the_last_flush() {
    let input = frames(60);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.bvh");
    let mut rec = BvhRecorder::create(&path, Units::Metres, 30.0).expect("create");
    // A file with only the header is already valid.
    assert_eq!(Bvh::read(&path).expect("empty recording reads").frames.len(), 0);
    for f in &input[..30] {
        rec.send(f).expect("send");
    }
    rec.flush().expect("flush");
    for f in &input[30..50] {
        rec.send(f).expect("send");
    }
    let on_disk = rec.frames_on_disk() as usize;
    assert!(on_disk >= 30);
    // Simulate kill -9: no finish, no Drop; plus a half-written line at the end.
    std::mem::forget(rec);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes.extend_from_slice(b"0.01 0.9 0.3 12.5 -3");
    let cut = dir.path().join("cut.bvh");
    std::fs::write(&cut, &bytes).expect("write");
    let bvh = Bvh::read(&cut).expect("the cut file reads");
    assert_eq!(bvh.frames.len(), on_disk);
    assert_bvh_matches(&bvh, &input, 1.0);
    // Blender reads every line whatever the count says, so it gets the file as the kill left it
    // between two flushes (the flush itself is one write of whole lines, then the count).
    blender_import(&path, bvh.joints.len(), on_disk);

    // The time-based flush: frames reach the disk within about a second without a flush call.
    let path = dir.path().join("timed.bvh");
    let mut rec = BvhRecorder::create(&path, Units::Metres, 30.0).expect("create");
    rec.send(&input[0]).expect("send");
    std::thread::sleep(Duration::from_millis(1100));
    rec.send(&input[1]).expect("send");
    assert_eq!(Bvh::read(&path).expect("reads").frames.len(), 2);
    std::mem::forget(rec);
}

fn vrma_file(input: &[MotionFrame], upper_chest: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("take.vrma");
    let mut rec = VrmaRecorder::new(&path, 30.0, upper_chest);
    for f in input {
        rec.send(f).expect("send");
    }
    rec.finish().expect("finish");
    (dir, path)
}

#[test]
fn vrma_is_a_valid_glb_with_the_vrm_animation_extension() {
    let input = frames(45);
    let (_dir, path) = vrma_file(&input, false);
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(&bytes[0..4], b"glTF");
    assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().expect("4")), 2);
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().expect("4")) as usize, bytes.len());
    let json_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4")) as usize;
    assert_eq!(&bytes[16..20], b"JSON");
    assert_eq!(json_len % 4, 0);
    let doc: serde_json::Value = serde_json::from_slice(&bytes[20..20 + json_len]).expect("JSON chunk");
    let bin_at = 20 + json_len;
    let bin_len = u32::from_le_bytes(bytes[bin_at..bin_at + 4].try_into().expect("4")) as usize;
    assert_eq!(&bytes[bin_at + 4..bin_at + 8], b"BIN\0");
    assert_eq!(bin_len % 4, 0);
    assert_eq!(bin_at + 8 + bin_len, bytes.len());

    assert_eq!(doc["asset"]["version"], "2.0");
    assert!(doc["extensionsUsed"].as_array().expect("extensionsUsed").iter().any(|e| e == "VRMC_vrm_animation"));
    let ext = &doc["extensions"]["VRMC_vrm_animation"];
    assert_eq!(ext["specVersion"], "1.0");
    let nodes = doc["nodes"].as_array().expect("nodes");
    let human = ext["humanoid"]["humanBones"].as_object().expect("humanBones");
    for b in [
        "hips",
        "spine",
        "head",
        "leftUpperLeg",
        "rightUpperLeg",
        "leftLowerLeg",
        "rightLowerLeg",
        "leftFoot",
        "rightFoot",
        "leftUpperArm",
        "rightUpperArm",
        "leftLowerArm",
        "rightLowerArm",
        "leftHand",
        "rightHand",
    ] {
        let node = human[b]["node"].as_u64().unwrap_or_else(|| panic!("{b} missing")) as usize;
        assert_eq!(nodes[node]["name"], b);
    }
    assert!(human.get("upperChest").is_none());
    // T-pose: world positions from summed translations; feet at y = 0, facing +Z, left = +X.
    let mut world = vec![[0.0f64; 3]; nodes.len()];
    let mut parent = vec![None; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        assert!(n.get("rotation").is_none() && n.get("scale").is_none());
        for c in n["children"].as_array().into_iter().flatten() {
            parent[c.as_u64().expect("child") as usize] = Some(i);
        }
    }
    for i in 0..nodes.len() {
        let t: Vec<f64> = nodes[i]["translation"].as_array().expect("t").iter().map(|v| v.as_f64().expect("f")).collect();
        let base = parent[i].map_or([0.0; 3], |p: usize| world[p]);
        assert!(parent[i].is_none_or(|p| p < i));
        world[i] = std::array::from_fn(|c| base[c] + t[c]);
    }
    let node_of = |b: &str| human[b]["node"].as_u64().expect("node") as usize;
    let lowest = ["leftFoot", "rightFoot", "leftToes", "rightToes"].map(|b| world[node_of(b)][1]);
    assert!(lowest.iter().cloned().fold(f64::INFINITY, f64::min).abs() < 1e-6, "feet at y = 0: {lowest:?}");
    assert!(world[node_of("head")][1] > 1.3);
    assert!(world[node_of("leftHand")][0] > 0.5);

    // Accessors and buffer views.
    let accessors = doc["accessors"].as_array().expect("accessors");
    let views = doc["bufferViews"].as_array().expect("views");
    assert_eq!(doc["buffers"][0]["byteLength"].as_u64(), Some(bin_len as u64));
    let mut end = 0;
    for v in views {
        let (o, l) = (v["byteOffset"].as_u64().expect("o"), v["byteLength"].as_u64().expect("l"));
        assert_eq!(o % 4, 0);
        end = end.max(o + l);
    }
    assert!(end as usize <= bin_len && bin_len - end as usize <= 3);
    let anim = &doc["animations"][0];
    let samplers = anim["samplers"].as_array().expect("samplers");
    let channels = anim["channels"].as_array().expect("channels");
    assert_eq!(channels.len(), nodes.len() + 1, "rotation for every bone, translation for the hips");
    let mut rotated = BTreeSet::new();
    for c in channels {
        let s = &samplers[c["sampler"].as_u64().expect("sampler") as usize];
        assert_eq!(s["interpolation"], "LINEAR");
        let input_acc = &accessors[s["input"].as_u64().expect("in") as usize];
        let output_acc = &accessors[s["output"].as_u64().expect("out") as usize];
        assert_eq!(input_acc["count"].as_u64(), Some(45));
        assert_eq!(output_acc["count"].as_u64(), Some(45));
        assert_eq!(input_acc["min"][0].as_f64(), Some(0.0));
        assert!((input_acc["max"][0].as_f64().expect("max") - 44.0 / 30.0).abs() < 1e-6);
        let view = &views[output_acc["bufferView"].as_u64().expect("view") as usize];
        let comps = match c["target"]["path"].as_str() {
            Some("rotation") => {
                rotated.insert(c["target"]["node"].as_u64().expect("node"));
                assert_eq!(output_acc["type"], "VEC4");
                4
            }
            Some("translation") => {
                assert_eq!(c["target"]["node"].as_u64(), Some(node_of("hips") as u64));
                assert_eq!(output_acc["type"], "VEC3");
                3
            }
            p => panic!("unexpected path {p:?}"),
        };
        assert_eq!(view["byteLength"].as_u64(), Some(45 * comps * 4));
    }
    assert_eq!(rotated.len(), nodes.len());

    // The hips rotation track is SMPL's global orientation, unflipped (up to sign).
    let glb = glb::decode(&bytes).expect("decode");
    let ch = channels.iter().find(|c| c["target"]["node"] == 0 && c["target"]["path"] == "rotation").expect("hips");
    let acc = &accessors[samplers[ch["sampler"].as_u64().expect("s") as usize]["output"].as_u64().expect("o") as usize];
    let off = views[acc["bufferView"].as_u64().expect("v") as usize]["byteOffset"].as_u64().expect("o") as usize;
    for (k, f) in input.iter().enumerate() {
        let q: Vec<f32> = (0..4).map(|c| f32::from_le_bytes(glb.bin[off + (k * 4 + c) * 4..][..4].try_into().expect("4"))).collect();
        let dot: f32 = q.iter().zip(f.rotations[0].iter()).map(|(a, b)| a * b).sum();
        assert!(dot.abs() > 0.9999, "frame {k}");
    }
}

/// A cut last line (a crash mid-write) is dropped and reported; a bad line elsewhere is an error
/// naming it.
#[test]
fn motion_file_with_a_cut_last_line_reads_up_to_it() {
    use mocapd::motion::{read_motion, read_motion_report, write_motion, MotionHeader, Truncation};
    let input = frames(20);
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = dir.path().join("whole.jsonl");
    write_motion(&whole, &MotionHeader::smpl24(30.0), &input, 0.5).expect("write");
    let text = std::fs::read_to_string(&whole).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 21);
    let path = dir.path().join("cut.jsonl");
    let last = lines[20];
    for keep in [1, last.len() / 2, last.len() - 1] {
        std::fs::write(&path, format!("{}\n{}", lines[..20].join("\n"), &last[..keep])).expect("write");
        let r = read_motion_report(&path).expect("a cut last line is not an error");
        assert_eq!(r.frames.len(), 19);
        assert_eq!(r.truncated, Some(Truncation { line: 21, bytes: keep }));
        assert_eq!(r.frames[..], read_motion(&whole).expect("reads").1[..19]);
        assert_eq!(read_motion(&path).expect("read_motion accepts it too").1.len(), 19);
    }
    // Cut on a line boundary: nothing dropped; the last line without its newline is complete.
    std::fs::write(&path, &text[..text.len() - 1]).expect("write");
    let r = read_motion_report(&path).expect("reads");
    assert_eq!((r.frames.len(), r.truncated), (20, None));
    // A bad line in the middle stays an error with its line number, cut tail or not.
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    bad[4] = bad[4][..bad[4].len() / 2].to_string();
    for tail in [String::new(), format!("\n{}", &last[..10])] {
        std::fs::write(&path, format!("{}{tail}", bad[..20].join("\n"))).expect("write");
        let e = read_motion_report(&path).expect_err("a bad line 5").to_string();
        assert!(e.contains("cut.jsonl:5:"), "{e}");
    }
    // A complete (newline-terminated) bad last line is not a crash's cut: an error.
    std::fs::write(&path, format!("{}\n{}\n", lines[..20].join("\n"), &last[..10])).expect("write");
    assert!(read_motion_report(&path).expect_err("bad last line").to_string().contains(":21:"));
    // A header cut short is an error that says so.
    std::fs::write(&path, &lines[0][..30]).expect("write");
    let e = read_motion_report(&path).expect_err("cut header").to_string();
    assert!(e.contains(":1:") && e.contains("cut short"), "{e}");
}

/// The motion recorder writes whole lines only: killed between flushes (simulated: no finish,
/// no Drop), the file holds exactly the flushed frames and reads without a dropped tail.
#[test]
fn motion_recording_cut_by_a_crash_ends_on_a_whole_line() {
    use mocapd::motion::read_motion_report;
    use mocapd::sink::motion::MotionRecorder;
    let input = frames(400);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.jsonl");
    let mut rec = MotionRecorder::create(&path, 30.0).expect("create");
    assert_eq!(read_motion_report(&path).expect("header-only file reads").frames.len(), 0);
    for f in &input[..300] {
        rec.send(f).expect("send");
    }
    rec.flush().expect("flush");
    // 100 more pending (far more than a BufWriter's 8 KiB), never written whole.
    for f in &input[300..] {
        rec.send(f).expect("send");
    }
    std::mem::forget(rec);
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(bytes.last(), Some(&b'\n'), "ends on a whole line");
    let r = read_motion_report(&path).expect("reads");
    assert_eq!((r.frames.len(), r.truncated), (300, None));

    // The time-based flush: frames reach the disk within 0.5 s of being sent.
    let path = dir.path().join("timed.jsonl");
    let mut rec = MotionRecorder::create(&path, 30.0).expect("create");
    rec.send(&input[0]).expect("send");
    std::thread::sleep(Duration::from_millis(600));
    rec.send(&input[1]).expect("send");
    assert_eq!(read_motion_report(&path).expect("reads").frames.len(), 2);
    std::mem::forget(rec);
}

/// Recorders never truncate an existing file, and a recording without a frame leaves no file.
#[test]
fn recorders_never_overwrite_and_leave_nothing_when_empty() {
    use mocapd::sink::motion::MotionRecorder;
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["old.bvh", "old.jsonl"] {
        std::fs::write(dir.path().join(name), b"a previous take").expect("write");
    }
    let e = BvhRecorder::create(&dir.path().join("old.bvh"), Units::Metres, 30.0).expect_err("exists");
    assert!(e.to_string().contains("old.bvh"), "{e}");
    assert!(MotionRecorder::create(&dir.path().join("old.jsonl"), 30.0).is_err());
    for name in ["old.bvh", "old.jsonl"] {
        assert_eq!(std::fs::read(dir.path().join(name)).expect("read"), b"a previous take");
    }
    let (bvh, jsonl, vrma) = (dir.path().join("e.bvh"), dir.path().join("e.jsonl"), dir.path().join("e.vrma"));
    let mut b = BvhRecorder::create(&bvh, Units::Metres, 30.0).expect("create");
    let mut m = MotionRecorder::create(&jsonl, 30.0).expect("create");
    let mut v = VrmaRecorder::new(&vrma, 30.0, false);
    assert!(bvh.exists() && jsonl.exists());
    b.finish().expect("finish");
    m.finish().expect("finish");
    v.finish().expect("an empty .vrma recording is not an error");
    assert!(!bvh.exists() && !jsonl.exists() && !vrma.exists(), "no empty files left behind");
}

/// `recover` (what `mocapd recover` runs): the .vrma from the motion file, the BVH extended when
/// it holds the motion file's first frames, nothing touched otherwise, and a second call keeps all.
#[test]
fn recover_writes_the_vrma_and_extends_a_short_bvh() {
    use mocapd::sink::motion::MotionRecorder;
    use mocapd::sink::recover::{recover, Outcome, RecoverOptions};
    let input = frames(90);
    let dir = tempfile::tempdir().expect("tempdir");
    let take = dir.path().join("take");
    let mut m = MotionRecorder::create(&take.with_extension("jsonl"), 30.0).expect("create");
    let mut b = BvhRecorder::create(&take.with_extension("bvh"), Units::Centimetres, 30.0).expect("create");
    for (k, f) in input.iter().enumerate() {
        m.send(f).expect("send");
        b.send(f).expect("send");
        if k == 59 {
            b.flush().expect("flush");
        }
    }
    m.flush().expect("flush");
    // kill -9: no finish; the BVH got 60 frames to disk, the motion file 90, no .vrma.
    std::mem::forget((m, b));
    let mut cut = std::fs::OpenOptions::new().append(true).open(take.with_extension("jsonl")).expect("open");
    std::io::Write::write_all(&mut cut, b"{\"frame\":90,\"t\":3.0,\"ro").expect("append a cut line");
    assert_eq!(Bvh::read(&take.with_extension("bvh")).expect("reads").frames.len(), 60);

    let r = recover(&take, &RecoverOptions::default()).expect("recover");
    eprint!("{}", r.text());
    assert_eq!(r.frames, 90);
    assert!(r.truncated.is_some());
    assert_eq!(r.vrma.outcome, Outcome::Written { frames: 90 });
    assert_eq!(r.bvh.outcome, Outcome::Extended { from: 60, to: 90 });
    let bvh = Bvh::read(&take.with_extension("bvh")).expect("reads");
    assert_eq!(bvh.frames.len(), 90);
    assert_bvh_matches(&bvh, &input, 100.0); // the file's own units kept
    blender_import(&take.with_extension("bvh"), NUM_JOINTS, 90);
    let g = glb::decode(&std::fs::read(take.with_extension("vrma")).expect("vrma")).expect("GLB");
    assert!(g.json["extensions"]["VRMC_vrm_animation"].is_object());
    assert_eq!(g.json["accessors"][0]["count"].as_u64(), Some(90));

    let again = recover(&take.with_extension("jsonl"), &RecoverOptions::default()).expect("recover");
    assert!(matches!(again.vrma.outcome, Outcome::Kept { .. }) && matches!(again.bvh.outcome, Outcome::Kept { .. }), "{again:?}");

    // A BVH that is not this take's start is left alone.
    let other = dir.path().join("other");
    std::fs::copy(take.with_extension("jsonl"), other.with_extension("jsonl")).expect("copy");
    let mut b = BvhRecorder::create(&other.with_extension("bvh"), Units::Metres, 30.0).expect("create");
    for f in input[1..11].iter() {
        b.send(f).expect("send");
    }
    b.finish().expect("finish");
    let before = std::fs::read(other.with_extension("bvh")).expect("read");
    let r = recover(&other.with_extension("bvh"), &RecoverOptions::default()).expect("recover");
    assert!(matches!(&r.bvh.outcome, Outcome::Kept { why } if why.contains("another take")), "{r:?}");
    assert_eq!(std::fs::read(other.with_extension("bvh")).expect("read"), before);

    // A take recorded without a motion file: the .vrma from the BVH, to its last flush.
    let bvh_only = dir.path().join("bvh-only.bvh");
    let mut b = BvhRecorder::create(&bvh_only, Units::Metres, 30.0).expect("create");
    for f in &input[..30] {
        b.send(f).expect("send");
    }
    b.flush().expect("flush");
    b.send(&input[30]).expect("send");
    std::mem::forget(b);
    let r = recover(&bvh_only, &RecoverOptions::default()).expect("recover from the BVH");
    assert_eq!(r.vrma.outcome, Outcome::Written { frames: 30 });
    let g = glb::decode(&std::fs::read(bvh_only.with_extension("vrma")).expect("vrma")).expect("GLB");
    assert_eq!(g.json["accessors"][0]["count"].as_u64(), Some(30));
}
