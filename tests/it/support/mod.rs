//! What the test modules share, each helper once: the `mocapd` binary, the demo clip's poses (made
//! once per test binary), the fetched motion data (one cache outside the repository), a tiny random
//! checkpoint, loopback UDP receivers and their OSC/VMC decoding, a local GStreamer RTSP server,
//! Blender's BVH import, and small waits, ports and signals.

pub mod blender;
pub mod data;
pub mod demo;
pub mod rtsp;
pub mod udp;

use std::fmt::Display;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mocapd::model::{save_random_checkpoint, ModelConfig, MotionStats};

/// The repository root: `models/`, `assets/` and `config/` are found from here.
pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `mocapd` binary of this build.
pub const BIN: &str = env!("CARGO_BIN_EXE_mocapd");

/// `mocapd` started from the repository root, without `ORT_DYLIB_PATH` (so the library is found
/// the way a user's install finds it, and a configured `pose.onnxruntime` is the one tried).
pub fn mocapd_command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(manifest_dir()).env_remove("ORT_DYLIB_PATH");
    cmd
}

/// Runs `mocapd ARGS` to completion.
pub fn mocapd(args: &[&str]) -> Output {
    mocapd_command().args(args).output().expect("run mocapd")
}

/// `mocapd ARGS` fails with one clear message that contains `needle`, and does not panic.
pub fn fails_with(args: &[&str], needle: &str) {
    let out = mocapd(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: expected '{needle}' in:\n{stderr}");
}

/// The message of the error `result` holds; fails the test (naming `what`) when it is `Ok`.
pub fn error_text<T, E: Display>(result: Result<T, E>, what: impl Display) -> String {
    match result {
        Ok(_) => panic!("expected an error: {what}"),
        Err(e) => e.to_string(),
    }
}

/// A random tiny denoiser (`ModelConfig::tiny(150)`) with standing-height stats, saved as
/// `dir/tiny.safetensors`.
pub fn tiny_checkpoint(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.safetensors");
    let mut mean = vec![0.0f32; 151];
    mean[148 + 1] = 0.9; // root height
    save_random_checkpoint(&path, &ModelConfig::tiny(150), Some(&MotionStats { mean, std: vec![0.5; 151] })).expect("save");
    path
}

/// Python 3 with the python-osc that tools/setup.sh installs into `.local/python`.
pub fn python_with_osc() -> Command {
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONPATH", manifest_dir().join(".local/python"));
    cmd
}

/// Logs from the library show up in failing tests' output.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "mocapd=info".into()))
        .with_test_writer()
        .try_init();
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// Sends the signal named `sig` (`"TERM"`, `"STOP"`, `"CONT"`) to process `pid`.
pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill").args([format!("-{sig}"), pid.to_string()]).status().expect("run kill");
    assert!(ok.success(), "kill -{sig} {pid} failed");
}

/// Waits until `f` is true, polling, for at most `limit`.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}
