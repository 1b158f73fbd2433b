//! The strict python-osc VMC validator (`support/vmc_validate_recv.py`, which the sink tests
//! trust) itself: it must fail a stream carrying a NaN or an infinity, which its unit-norm test
//! alone lets through (`abs(NaN - 1) > 1e-3` is false).

use std::process::Stdio;
use std::time::{Duration, Instant};

use rosc::{encoder, OscMessage, OscPacket, OscType};

use crate::support::udp::free_udp_port;
use crate::support::{manifest_dir, python_with_osc};

/// Runs the validator for `seconds` on a free port while `datagrams` are sent to it (repeatedly,
/// every 100 ms, once it has had a second to start); its exit success and JSON summary.
fn validate(datagrams: &[Vec<u8>], seconds: f64) -> (bool, serde_json::Value) {
    let ok = python_with_osc().args(["-c", "import pythonosc"]).status().is_ok_and(|s| s.success());
    assert!(ok, "python-osc missing from .local/python: run tools/setup.sh");
    let port = free_udp_port();
    let script = manifest_dir().join("tests/it/support/vmc_validate_recv.py");
    let child = python_with_osc()
        .arg(&script)
        .args([port.to_string(), seconds.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start validator");
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    std::thread::sleep(Duration::from_millis(1000));
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(1000) {
        for d in datagrams {
            let _ = sock.send_to(d, ("127.0.0.1", port));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("validator ran");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    (out.status.success(), serde_json::from_str(&text).expect("JSON summary"))
}

fn message(addr: &str, args: Vec<OscType>) -> Vec<u8> {
    encoder::encode(&OscPacket::Message(OscMessage { addr: addr.into(), args })).expect("encode")
}

/// `/VMC/Ext/Bone/Pos` of `bone` at `pos` with rotation `q` (x, y, z, w).
fn bone(bone: &str, pos: [f32; 3], q: [f32; 4]) -> Vec<u8> {
    let mut args = vec![OscType::String(bone.into())];
    args.extend(pos.iter().chain(&q).map(|&v| OscType::Float(v)));
    message("/VMC/Ext/Bone/Pos", args)
}

#[test]
fn the_vmc_validator_fails_on_nan_and_infinity() {
    // A clean frame passes.
    let clean = [bone("Hips", [0.0, 0.9, 0.0], [0.0, 0.0, 0.0, 1.0]), message("/VMC/Ext/T", vec![OscType::Float(1.5)])];
    let (ok, summary) = validate(&clean, 2.5);
    assert!(ok, "a clean frame failed: {summary}");
    assert!(summary["counts"]["/VMC/Ext/Bone/Pos"].as_u64().is_some_and(|n| n > 0), "nothing arrived: {summary}");

    // NaN in a rotation, infinity in a position (a unit quaternion otherwise), NaN in the time.
    let bad = [
        bone("Spine", [0.0, 0.1, 0.0], [f32::NAN, 0.0, 0.0, 1.0]),
        bone("Head", [0.0, f32::INFINITY, 0.0], [0.0, 0.0, 0.0, 1.0]),
        message("/VMC/Ext/T", vec![OscType::Float(f32::NAN)]),
    ];
    let (ok, summary) = validate(&bad, 2.5);
    assert!(!ok, "the validator passed non-finite values: {summary}");
    let errors: Vec<String> = summary["errors"].as_array().expect("errors").iter().map(|e| e.to_string()).collect();
    let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
    assert!(has("/VMC/Ext/Bone/Pos: argument 4 is not finite"), "NaN rotation not reported: {errors:?}");
    assert!(has("/VMC/Ext/Bone/Pos: argument 2 is not finite"), "infinite position not reported: {errors:?}");
    assert!(has("/VMC/Ext/T: argument 0 is not finite"), "NaN time not reported: {errors:?}");
    assert!(has("Spine: non-unit quaternion"), "the NaN norm passed the unit test: {errors:?}");
}
