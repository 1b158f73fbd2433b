//! `mocapd run` end to end on the demo video's keypoints (support's, made once per test binary),
//! with a tiny random checkpoint: VMC (parsed with the `vmc` crate) and plain OSC into loopback
//! receivers, BVH / .vrma / mocapd.motion/1 recordings re-read, a receiver that is not listening,
//! a malformed config, SIGTERM mid-recording, `kill -9` mid-recording then `mocapd recover`, and
//! a second run that must not overwrite the first take; and `mocapd run` on a real RTSP stream
//! (support's GStreamer server) that dies and comes back.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::blender::blender_import;
use crate::support::demo::demo_poses;
use crate::support::rtsp::RtspServer;
use crate::support::udp::{free_udp_port, osc_messages, unit, vmc_frames, Receiver, VmcFrame};
use crate::support::{fails_with, free_port, mocapd, mocapd_command, signal, tiny_checkpoint, wait_until};
use mocapd::bvh::Bvh;
use mocapd::motion::read_motion_report;
use mocapd::sink::glb;
use rosc::OscType;

const DEMO_FPS: f64 = 30.0;

/// The demo video's keypoint file.
fn demo_keypoints() -> &'static str {
    demo_poses().keypoints.to_str().expect("utf-8 path")
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

/// Every recording of the take `name` in `dir` is complete and parses; returns the BVH frame count.
fn check_take(dir: &Path, name: &str) -> usize {
    let bvh = Bvh::read(&dir.join(format!("{name}.bvh"))).expect("BVH re-reads");
    assert!(!bvh.frames.is_empty());
    assert!(bvh.frames.iter().flatten().all(|v| v.is_finite()));
    let r = read_motion_report(&dir.join(format!("{name}.jsonl"))).expect("motion file parses");
    assert_eq!(r.truncated, None, "a finished take ends on a whole line");
    assert_eq!(r.frames.len(), bvh.frames.len(), "BVH and motion file hold the same frames");
    let bytes = std::fs::read(dir.join(format!("{name}.vrma"))).expect("vrma written");
    let g = glb::decode(&bytes).expect("vrma is a GLB");
    assert!(g.json["extensions"]["VRMC_vrm_animation"].is_object());
    let acc = &g.json["accessors"][g.json["animations"][0]["samplers"][0]["input"].as_u64().expect("input") as usize];
    assert_eq!(acc["count"].as_u64(), Some(bvh.frames.len() as u64), "vrma keyframes");
    bvh.frames.len()
}

/// [`check_take`] of `take`.
fn check_recordings(dir: &Path) -> usize {
    check_take(dir, "take")
}

#[test]
fn run_sends_vmc_and_osc_and_records() {
    let kp = demo_keypoints();
    let dir = tempfile::tempdir().expect("tempdir");
    let (vmc_rx, osc_rx) = (Receiver::start(), Receiver::start());
    let cfg = config(dir.path(), &vmc_rx.addr, Some(&osc_rx.addr));
    let out = mocapd_command().args(["--config", cfg.to_str().unwrap(), "run", kp]).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mocapd run failed: {stderr}");
    assert!(stderr.contains("latency p50"), "status line: {stderr}");

    // VMC: every frame carries every mapped bone, unit quaternions, finite positions.
    let frames = vmc_frames(&vmc_rx.until_quiet(Duration::from_secs(3), Duration::from_secs(60)));
    for b in frames.iter().flat_map(|f| &f.bones) {
        let q = b.rotation;
        assert!(unit(q, 1e-3) && b.position.iter().all(|v| v.is_finite()), "{}: {q:?}", b.name);
    }
    let n = frames.len();
    assert!(n >= 200, "VMC frames: {n} (230 in the demo)");
    assert!(frames.iter().all(|f| f.bone_count() == 21), "a frame without all 21 bones");
    let span = frames[n - 1].at.duration_since(frames[0].at).as_secs_f64();
    let fps = (n - 1) as f64 / span;
    assert!((fps - DEMO_FPS).abs() <= 0.2 * DEMO_FPS, "VMC cadence {fps:.1} fps");

    // OSC: the documented address space, unit quaternions.
    let msgs = osc_messages(&osc_rx.until_quiet(Duration::from_secs(3), Duration::from_secs(60)));
    let count = |a: &str| msgs.iter().filter(|m| m.addr == a).count();
    let osc_frames = count("/mocapd/frame");
    assert_eq!(osc_frames, n, "OSC and VMC carry the same frames");
    assert_eq!(msgs.iter().filter(|m| m.addr.starts_with("/mocapd/joint/")).count(), 24 * osc_frames);
    for m in msgs.iter().filter(|m| m.addr.starts_with("/mocapd/joint/")) {
        let q: Vec<f32> = m.args.iter().map(|a| if let OscType::Float(v) = a { *v } else { f32::NAN }).collect();
        assert!(unit([q[0], q[1], q[2], q[3]], 1e-3), "{}: {q:?}", m.addr);
    }
    assert_eq!(check_recordings(dir.path()), n);
}

#[test]
fn sigterm_mid_recording_finalises_everything_and_a_deaf_receiver_is_fine() {
    let kp = demo_keypoints();
    let dir = tempfile::tempdir().expect("tempdir");
    // Nobody listens on this port.
    let deaf = format!("127.0.0.1:{}", free_udp_port());
    let cfg = config(dir.path(), &deaf, None);
    let child = mocapd_command().args(["--config", cfg.to_str().unwrap(), "run", kp]).stderr(Stdio::piped()).spawn().expect("spawn");
    std::thread::sleep(Duration::from_secs(3));
    signal(child.id(), "TERM");
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

/// `mocapd run` in `dir` with `cfg`, stopped with SIGTERM after `secs` (it must exit 0); its stderr.
fn run_for(dir: &Path, cfg: &Path, input: &str, secs: f64) -> String {
    let log = dir.join("stderr.log");
    let mut child = mocapd_command()
        .args(["--config", cfg.to_str().unwrap(), "run", input])
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let t0 = Instant::now();
    while t0.elapsed().as_secs_f64() < secs && child.try_wait().expect("try_wait").is_none() {
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().expect("try_wait").is_none() {
        signal(child.id(), "TERM");
    }
    let status = child.wait().expect("wait");
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "exit after SIGTERM: {status:?}\n{stderr}");
    stderr
}

#[test]
fn kill_9_mid_recording_leaves_readable_files_and_recover_writes_the_vrma() {
    let kp = demo_keypoints();
    let dir = tempfile::tempdir().expect("tempdir");
    let rx = Receiver::start();
    let cfg = config(dir.path(), &rx.addr, None);
    let log = dir.path().join("stderr.log");
    let mut child = mocapd_command()
        .args(["--config", cfg.to_str().unwrap(), "run", kp])
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let started = wait_until(Duration::from_secs(60), || vmc_frames(&rx.datagrams()).len() >= 100);
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    std::thread::sleep(Duration::from_millis(200));
    let sent = vmc_frames(&rx.datagrams()).len();
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(started && sent < 230, "killed mid-take: {sent} VMC frames\n{stderr}");

    // Every file reads back with mocapd's own readers, missing at most the last second (30 frames).
    let jsonl = dir.path().join("take.jsonl");
    let r = read_motion_report(&jsonl).expect("the motion file reads after kill -9");
    let n = r.frames.len();
    eprintln!("kill -9 after {sent} VMC frames: motion file {n} frames, cut tail {:?}", r.truncated);
    assert!(n + 30 >= sent && n <= sent + 30, "motion file: {n} frames, {sent} sent");
    assert!(r.frames.iter().enumerate().all(|(k, f)| f.frame == r.frames[0].frame + k as u64), "no frame missing inside");
    let bvh_path = dir.path().join("take.bvh");
    let bvh = Bvh::read(&bvh_path).expect("the BVH reads after kill -9");
    let nb = bvh.frames.len();
    assert!(nb + 30 >= sent && nb <= sent + 30, "BVH: {nb} frames, {sent} sent");
    blender_import(&bvh_path, bvh.joints.len(), nb);
    assert!(!dir.path().join("take.vrma").exists(), "a .vrma is only written when the recording ends");

    // `mocapd recover` writes the .vrma (and the BVH when shorter) from the motion file.
    let out = mocapd(&["--config", cfg.to_str().unwrap(), "recover", jsonl.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "recover failed: {text}");
    assert!(text.contains("take.vrma: written"), "{text}");
    let g = glb::decode(&std::fs::read(dir.path().join("take.vrma")).expect("vrma")).expect("the .vrma is a GLB");
    assert!(g.json["extensionsUsed"].as_array().expect("extensionsUsed").iter().any(|e| e == "VRMC_vrm_animation"));
    assert!(g.json["extensions"]["VRMC_vrm_animation"]["humanoid"]["humanBones"]["hips"].is_object());
    let acc = &g.json["accessors"][g.json["animations"][0]["samplers"][0]["input"].as_u64().expect("input") as usize];
    assert_eq!(acc["count"].as_u64(), Some(n as u64), "vrma keyframes = motion file frames");
    let after = Bvh::read(&bvh_path).expect("BVH reads").frames.len();
    assert!(after >= n && after >= nb, "BVH after recover: {after} frames (was {nb}, motion file {n})");
    // Running it again changes nothing.
    let out = mocapd(&["--config", cfg.to_str().unwrap(), "recover", dir.path().join("take").to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.matches("kept").count() == 2, "{text}");
}

#[test]
fn a_second_run_writes_a_new_take_and_an_empty_run_leaves_nothing() {
    let kp = demo_keypoints();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &format!("127.0.0.1:{}", free_udp_port()), None);
    let files = |name: &str| ["bvh", "jsonl", "vrma"].map(|e| dir.path().join(format!("{name}.{e}")));
    run_for(dir.path(), &cfg, kp, 3.0);
    let first = check_take(dir.path(), "take");
    let snapshot: Vec<Vec<u8>> = files("take").iter().map(|p| std::fs::read(p).expect("first take")).collect();

    // The same config again: a new take, the first untouched.
    let stderr = run_for(dir.path(), &cfg, kp, 3.0);
    assert!(stderr.contains("take-002.jsonl"), "the log names the new take's files: {stderr}");
    let second = check_take(dir.path(), "take-002");
    eprintln!("first take {first} frames, second {second}");
    for (p, before) in files("take").iter().zip(&snapshot) {
        assert_eq!(&std::fs::read(p).expect("still there"), before, "{} changed", p.display());
    }

    // A run that records no frame (a keypoint file without frames) writes no file at all.
    let empty = dir.path().join("empty.kp.jsonl");
    let header = std::fs::read_to_string(kp).expect("keypoints").lines().next().expect("header").to_string();
    std::fs::write(&empty, header + "\n").expect("write");
    let stderr = run_for(dir.path(), &cfg, empty.to_str().unwrap(), 30.0);
    assert!(stderr.contains("no frame recorded"), "{stderr}");
    assert!(files("take-003").iter().all(|p| !p.exists()), "empty take files left behind");
    assert!(files("take").iter().chain(&files("take-002")).all(|p| p.exists()));
}

#[test]
fn malformed_config_names_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (text, key) in [
        ("[pipeline]\nsteps = 0\n", "pipeline.steps"),
        ("[sink.vmc]\ntarget = \"nowhere\"\n", "sink.vmc.target"),
        ("[record]\nbvh_units = \"inch\"\n", "record.bvh_units"),
        ("[record]\nbvh = \"take-{date}.bvh\"\n", "record.bvh"),
        ("[sink.vmc]\nport = 39539\n", "port"),
    ] {
        let cfg = dir.path().join("bad.toml");
        std::fs::write(&cfg, text).expect("write");
        fails_with(&["--config", cfg.to_str().unwrap(), "run"], key);
    }
}

#[test]
fn bench_reports_latency_and_draws_the_histogram() {
    let kp = demo_keypoints();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "127.0.0.1:9", None);
    let png = dir.path().join("latency.png");
    let out = mocapd_command()
        .args(["--config", cfg.to_str().unwrap(), "bench", kp, "--duration", "3", "--json", "--histogram", png.to_str().unwrap()])
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
    // A keypoint file has no pose stage: the denoiser is the thread that works.
    let threads = r["cpu_by_thread"].as_array().expect("cpu_by_thread");
    let denoise = threads.iter().find(|t| t[0] == "denoise").and_then(|t| t[1].as_f64());
    assert!(denoise.is_some_and(|v| v > 0.0 && v <= r["cpu_seconds"].as_f64().unwrap() + 0.05), "{threads:?}");
    let img = std::fs::read(&png).expect("histogram written");
    assert_eq!(&img[1..4], b"PNG");
}

#[test]
fn rtsp_source_that_dies_and_comes_back() {
    let test_start = Instant::now();
    let port = free_port();
    let mut server = RtspServer::start(port, 60);
    let dir = tempfile::tempdir().expect("tempdir");
    // A VMC receiver that keeps every datagram with its arrival time until stopped.
    let rx = Receiver::start();
    let frames_since = |t: Instant| vmc_frames(&rx.datagrams()).into_iter().filter(|f| f.at > t).collect::<Vec<VmcFrame>>();
    let ck = tiny_checkpoint(dir.path());
    let cfg = dir.path().join("rtsp.toml");
    let text = format!(
        "[source]\ninput = \"{}\"\nqueue = 2\nreconnect_min_s = 0.25\nreconnect_max_s = 0.5\ntimeout_s = 3.0\n\n[pipeline]\ncheckpoint = \"{}\"\n\n[sink.vmc]\ntarget = \"{}\"\n",
        server.url(),
        ck.display(),
        rx.addr
    );
    std::fs::write(&cfg, text).expect("config");
    let log = dir.path().join("stderr.log");
    /// The daemon, killed if an assertion fails before SIGTERM stops it (no orphan left
    /// holding the test's stdout).
    struct Daemon(std::process::Child);
    impl Drop for Daemon {
        fn drop(&mut self) {
            if matches!(self.0.try_wait(), Ok(None)) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
    }
    let mut daemon = Daemon(
        mocapd_command()
            .args(["--config", cfg.to_str().unwrap(), "run"])
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("spawn"),
    );
    let child = &mut daemon.0;
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
    let last = rx.datagrams().last().map(|(at, _)| *at).expect("datagrams");
    assert!(last.elapsed() > Duration::from_millis(1500), "frames kept coming {:?} after the kill", last.duration_since(killed));

    let _server2 = RtspServer::start(port, 60);
    let restarted = Instant::now();
    let after = wait_frames(restarted, 30, Duration::from_secs(25));
    assert!(after.len() >= 30, "VMC frames after the restart: {}\n{}", after.len(), stderr());
    // Bounded recovery: the reconnect backoff is capped at source.reconnect_max_s = 0.5 s, so the
    // frames are back within 2 s of the server serving again.
    let resumed = after[0].at.duration_since(restarted);
    eprintln!("VMC frames resumed {:.2} s after the RTSP server came back", resumed.as_secs_f64());
    assert!(
        resumed <= Duration::from_secs(2),
        "VMC frames resumed {:.2} s after the server came back, more than 2 s\n{}",
        resumed.as_secs_f64(),
        stderr()
    );
    for f in &after {
        assert_eq!(f.bone_count(), 21, "a frame without all 21 bones");
        for b in &f.bones {
            assert!(unit(b.rotation, 1e-3), "{}: {:?}", b.name, b.rotation);
        }
    }
    assert!(child.try_wait().expect("try_wait").is_none(), "the daemon is still running");

    signal(child.id(), "TERM");
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
    rx.stop();
    assert!(exit.success(), "exit after SIGTERM: {exit:?}\n{}", stderr());
    assert!(test_start.elapsed() < Duration::from_secs(60), "took {:?}", test_start.elapsed());
}
