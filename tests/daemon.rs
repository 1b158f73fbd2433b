//! `mocapd run` end to end on the demo video's keypoints (made once with the binary), with a
//! tiny random checkpoint written by `model::save_checkpoint`: VMC (parsed with the `vmc`
//! crate) and plain OSC into loopback receivers, BVH / .vrma / mocapd.motion/1 recordings
//! re-read, a receiver that is not listening, a malformed config, and SIGTERM mid-recording;
//! and `mocapd run` on a real RTSP stream (tests/support's GStreamer server) that dies and
//! comes back.
#[allow(dead_code)] // the helpers tests/source.rs uses too
mod support;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use mocapd::bvh::Bvh;
use mocapd::model::{save_checkpoint, Denoiser, ModelConfig, MotionStats};
use mocapd::sink::glb;
use rosc::{OscPacket, OscType};

const BIN: &str = env!("CARGO_BIN_EXE_mocapd");
const DEMO_FPS: f64 = 30.0;

/// The demo video's keypoints, made once per build with `mocapd keypoints`.
fn demo_keypoints() -> &'static Path {
    static KP: OnceLock<PathBuf> = OnceLock::new();
    KP.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo.kp.jsonl");
        if !path.is_file() {
            let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.mp4");
            let tmp = path.with_extension("partial.jsonl");
            let out = Command::new(BIN)
                .args(["keypoints", demo.to_str().unwrap(), "--out", tmp.to_str().unwrap()])
                .output()
                .expect("run mocapd keypoints");
            assert!(out.status.success(), "mocapd keypoints failed: {}", String::from_utf8_lossy(&out.stderr));
            std::fs::rename(&tmp, &path).expect("rename");
        }
        path
    })
}

fn tiny_checkpoint(dir: &Path) -> PathBuf {
    let dev = Device::Cpu;
    let cfg = ModelConfig::tiny(150);
    let vm = VarMap::new();
    Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev)).expect("model");
    let path = dir.join("tiny.safetensors");
    let mut mean = vec![0.0f32; 151];
    mean[148 + 1] = 0.9; // root height
    save_checkpoint(&path, &vm, &cfg, Some(&MotionStats { mean, std: vec![0.5; 151] })).expect("save");
    path
}

/// Collects datagrams with their arrival times until `quiet` passes without one (after the
/// first) or `limit` passes.
type Datagrams = Vec<(Instant, Vec<u8>)>;

fn receiver(quiet: Duration, limit: Duration) -> (String, std::thread::JoinHandle<Datagrams>) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
    let addr = sock.local_addr().expect("addr").to_string();
    let h = std::thread::spawn(move || {
        let (start, mut last) = (Instant::now(), None::<Instant>);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                last = Some(Instant::now());
                out.push((Instant::now(), buf[..n].to_vec()));
            }
            if last.is_some_and(|l| l.elapsed() > quiet) || start.elapsed() > limit {
                return out;
            }
        }
    });
    (addr, h)
}

fn flatten(p: OscPacket, out: &mut Vec<rosc::OscMessage>) {
    match p {
        OscPacket::Message(m) => out.push(m),
        OscPacket::Bundle(b) => b.content.into_iter().for_each(|p| flatten(p, out)),
    }
}

fn unit(q: [f32; 4]) -> bool {
    q.iter().all(|v| v.is_finite()) && ((q.iter().map(|v| v * v).sum::<f32>()).sqrt() - 1.0).abs() < 1e-3
}

fn config(dir: &Path, vmc: &str, osc: Option<&str>) -> PathBuf {
    let ck = tiny_checkpoint(dir);
    let osc = osc.map_or("enabled = false".to_string(), |a| format!("enabled = true\ntarget = \"{a}\""));
    let text = format!(
        "[pipeline]\ncheckpoint = \"{}\"\n\n[sink.vmc]\ntarget = \"{vmc}\"\n\n[sink.osc]\n{osc}\n\n[record]\nbvh = \"{}\"\nvrma = \"{}\"\nmotion = \"{}\"\n",
        ck.display(),
        dir.join("take.bvh").display(),
        dir.join("take.vrma").display(),
        dir.join("take.jsonl").display()
    );
    let path = dir.join("run.toml");
    std::fs::write(&path, text).expect("config");
    path
}

/// Every recording is complete and parses; returns the BVH frame count.
fn check_recordings(dir: &Path) -> usize {
    let bvh = Bvh::read(&dir.join("take.bvh")).expect("BVH re-reads");
    assert!(!bvh.frames.is_empty());
    assert!(bvh.frames.iter().flatten().all(|v| v.is_finite()));
    let (_, motion) = mocapd::motion::read_motion(&dir.join("take.jsonl")).expect("motion file parses");
    assert_eq!(motion.len(), bvh.frames.len(), "BVH and motion file hold the same frames");
    let bytes = std::fs::read(dir.join("take.vrma")).expect("vrma written");
    let g = glb::decode(&bytes).expect("vrma is a GLB");
    assert!(g.json["extensions"]["VRMC_vrm_animation"].is_object());
    let acc = &g.json["accessors"][g.json["animations"][0]["samplers"][0]["input"].as_u64().expect("input") as usize];
    assert_eq!(acc["count"].as_u64(), Some(bvh.frames.len() as u64), "vrma keyframes");
    bvh.frames.len()
}

#[test]
fn run_sends_vmc_and_osc_and_records() {
    let kp = demo_keypoints();
    let dir = tempfile::tempdir().expect("tempdir");
    let (vmc_addr, vmc_rx) = receiver(Duration::from_secs(3), Duration::from_secs(60));
    let (osc_addr, osc_rx) = receiver(Duration::from_secs(3), Duration::from_secs(60));
    let cfg = config(dir.path(), &vmc_addr, Some(&osc_addr));
    let out = Command::new(BIN).args(["--config", cfg.to_str().unwrap(), "run", kp.to_str().unwrap()]).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mocapd run failed: {stderr}");
    assert!(stderr.contains("latency p50"), "status line: {stderr}");

    // VMC: every frame carries every mapped bone, unit quaternions, finite positions.
    let vmc = vmc_rx.join().expect("vmc receiver");
    let mut frames: Vec<(Instant, HashMap<String, [f32; 4]>)> = vec![(Instant::now(), HashMap::new())];
    for (at, d) in &vmc {
        let (_, packet) = rosc::decoder::decode_udp(d).expect("osc");
        for m in vmc::parse(packet).expect("vmc::parse") {
            match m {
                vmc::Message::BoneTransform(b) => {
                    let q = [b.rotation.x, b.rotation.y, b.rotation.z, b.rotation.w];
                    assert!(unit(q) && [b.position.x, b.position.y, b.position.z].iter().all(|v| v.is_finite()), "{}: {q:?}", b.bone);
                    frames.last_mut().unwrap().1.insert(b.bone.clone(), q);
                }
                vmc::Message::Time(_) => {
                    frames.last_mut().unwrap().0 = *at;
                    frames.push((*at, HashMap::new()));
                }
                _ => {}
            }
        }
    }
    frames.pop();
    let n = frames.len();
    assert!(n >= 200, "VMC frames: {n} (230 in the demo)");
    assert!(frames.iter().all(|(_, b)| b.len() == 21), "a frame without all 21 bones");
    let span = frames[n - 1].0.duration_since(frames[0].0).as_secs_f64();
    let fps = (n - 1) as f64 / span;
    assert!((fps - DEMO_FPS).abs() <= 0.2 * DEMO_FPS, "VMC cadence {fps:.1} fps");

    // OSC: the documented address space, unit quaternions.
    let osc = osc_rx.join().expect("osc receiver");
    let mut msgs = Vec::new();
    for (_, d) in &osc {
        flatten(rosc::decoder::decode_udp(d).expect("osc").1, &mut msgs);
    }
    let count = |a: &str| msgs.iter().filter(|m| m.addr == a).count();
    let osc_frames = count("/mocapd/frame");
    assert_eq!(osc_frames, n, "OSC and VMC carry the same frames");
    assert_eq!(msgs.iter().filter(|m| m.addr.starts_with("/mocapd/joint/")).count(), 24 * osc_frames);
    for m in msgs.iter().filter(|m| m.addr.starts_with("/mocapd/joint/")) {
        let q: Vec<f32> = m.args.iter().map(|a| if let OscType::Float(v) = a { *v } else { f32::NAN }).collect();
        assert!(unit([q[0], q[1], q[2], q[3]]), "{}: {q:?}", m.addr);
    }
    assert_eq!(check_recordings(dir.path()), n);
}

#[test]
fn sigterm_mid_recording_finalises_everything_and_a_deaf_receiver_is_fine() {
    let kp = demo_keypoints();
    let dir = tempfile::tempdir().expect("tempdir");
    // Nobody listens on this port.
    let deaf = UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("port").to_string();
    let cfg = config(dir.path(), &deaf, None);
    let child = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap(), "run", kp.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_secs(3));
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit after SIGTERM: {:?}\n{stderr}", out.status);
    let n = check_recordings(dir.path());
    assert!(n > 10 && n < 200, "stopped mid-take: {n} frames\n{stderr}");
    // Nothing lost: every frame the denoiser sent is in every recording.
    let out_frames: usize = stderr
        .split("motion frames out")
        .next()
        .and_then(|head| head.rsplit(", ").next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no summary line: {stderr}"));
    assert_eq!(out_frames, n, "frames sent vs recorded");
}

#[test]
fn malformed_config_names_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (text, key) in [
        ("[pipeline]\nsteps = 0\n", "pipeline.steps"),
        ("[sink.vmc]\ntarget = \"nowhere\"\n", "sink.vmc.target"),
        ("[record]\nbvh_units = \"inch\"\n", "record.bvh_units"),
        ("[sink.vmc]\nport = 39539\n", "port"),
    ] {
        let cfg = dir.path().join("bad.toml");
        std::fs::write(&cfg, text).expect("write");
        let out = Command::new(BIN).args(["--config", cfg.to_str().unwrap(), "run"]).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text} was accepted");
        assert!(stderr.contains(key), "error for {text:?} does not name {key}: {stderr}");
    }
}

#[test]
fn bench_reports_latency_and_draws_the_histogram() {
    let kp = demo_keypoints();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "127.0.0.1:9", None);
    let png = dir.path().join("latency.png");
    let out = Command::new(BIN)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "bench",
            kp.to_str().unwrap(),
            "--duration",
            "3",
            "--json",
            "--histogram",
            png.to_str().unwrap(),
        ])
        .output()
        .expect("bench");
    assert!(out.status.success(), "bench failed: {}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let sent = r["frames_sent"].as_u64().expect("frames_sent");
    assert!((60..=110).contains(&sent), "3 s at 30 fps: {sent}");
    for key in ["p50", "p95", "p99", "max"] {
        assert!(r["latency_ms"][key].as_f64().is_some_and(|v| v > 0.0 && v < 5000.0), "latency {key}: {}", r["latency_ms"]);
    }
    assert!(r["rss_max_mib"].as_f64().is_some_and(|v| v > 1.0) && r["cpu_seconds"].as_f64().is_some_and(|v| v > 0.0));
    let img = std::fs::read(&png).expect("histogram written");
    assert_eq!(&img[1..4], b"PNG");
}

/// VMC frames in `datagrams` (split at `/VMC/Ext/T`): arrival time and the bones' rotations.
fn vmc_frames(datagrams: &[(Instant, Vec<u8>)]) -> Vec<(Instant, HashMap<String, [f32; 4]>)> {
    let mut frames = Vec::new();
    let mut bones = HashMap::new();
    for (at, d) in datagrams {
        let (_, packet) = rosc::decoder::decode_udp(d).expect("osc");
        for m in vmc::parse(packet).expect("vmc::parse") {
            match m {
                vmc::Message::BoneTransform(b) => {
                    bones.insert(b.bone.clone(), [b.rotation.x, b.rotation.y, b.rotation.z, b.rotation.w]);
                }
                vmc::Message::Time(_) => frames.push((*at, std::mem::take(&mut bones))),
                _ => {}
            }
        }
    }
    frames
}

#[test]
fn rtsp_source_that_dies_and_comes_back() {
    let test_start = Instant::now();
    let port = support::free_port();
    let mut server = support::RtspServer::start(port, 60);
    let dir = tempfile::tempdir().expect("tempdir");
    // An in-process VMC receiver that keeps every datagram with its arrival time until told to stop.
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(50))).expect("timeout");
    let vmc_addr = sock.local_addr().expect("addr").to_string();
    let got: Arc<Mutex<Vec<(Instant, Vec<u8>)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let rx = {
        let (got, stop) = (Arc::clone(&got), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !stop.load(Relaxed) {
                if let Ok((n, _)) = sock.recv_from(&mut buf) {
                    got.lock().unwrap().push((Instant::now(), buf[..n].to_vec()));
                }
            }
        })
    };
    let frames_since = |t: Instant| vmc_frames(&got.lock().unwrap()).into_iter().filter(|(at, _)| *at > t).collect::<Vec<_>>();
    let ck = tiny_checkpoint(dir.path());
    let cfg = dir.path().join("rtsp.toml");
    let text = format!(
        "[source]\ninput = \"{}\"\nqueue = 2\nreconnect_min_s = 0.25\nreconnect_max_s = 1.0\ntimeout_s = 3.0\n\n[pipeline]\ncheckpoint = \"{}\"\n\n[sink.vmc]\ntarget = \"{vmc_addr}\"\n",
        server.url(),
        ck.display()
    );
    std::fs::write(&cfg, text).expect("config");
    let log = dir.path().join("stderr.log");
    let mut child = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap(), "run"])
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let stderr = || std::fs::read_to_string(&log).unwrap_or_default();
    let wait_frames = |since: Instant, n: usize, limit: Duration| {
        let t0 = Instant::now();
        while frames_since(since).len() < n && t0.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(100));
        }
        frames_since(since)
    };

    let started = Instant::now();
    let before = wait_frames(started, 30, Duration::from_secs(25));
    assert!(before.len() >= 30, "VMC frames from the stream: {}\n{}", before.len(), stderr());

    server.kill();
    let killed = Instant::now();
    std::thread::sleep(Duration::from_secs(4));
    assert!(child.try_wait().expect("try_wait").is_none(), "the daemon exited when the source died\n{}", stderr());
    // The source is gone: the frames stopped (nothing arrived in the last 1.5 s of the outage).
    let last = got.lock().unwrap().last().map(|(at, _)| *at).expect("datagrams");
    assert!(last.elapsed() > Duration::from_millis(1500), "frames kept coming {:?} after the kill", last.duration_since(killed));

    let _server2 = support::RtspServer::start(port, 60);
    let restarted = Instant::now();
    let after = wait_frames(restarted, 30, Duration::from_secs(25));
    assert!(after.len() >= 30, "VMC frames after the restart: {}\n{}", after.len(), stderr());
    eprintln!("frames resumed {:?} after the restart", after[0].0.duration_since(restarted));
    for (_, bones) in &after {
        assert_eq!(bones.len(), 21, "a frame without all 21 bones");
        assert!(bones.values().all(|q| unit(*q)), "{bones:?}");
    }
    assert!(child.try_wait().expect("try_wait").is_none(), "the daemon is still running");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let t0 = Instant::now();
    let exit = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("no exit 10 s after SIGTERM\n{}", stderr());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    stop.store(true, Relaxed);
    rx.join().expect("receiver");
    assert!(exit.success(), "exit after SIGTERM: {exit:?}\n{}", stderr());
    assert!(test_start.elapsed() < Duration::from_secs(60), "took {:?}", test_start.elapsed());
}
