//! Test helpers for `tests/source.rs`: a local GStreamer RTSP server child process and free ports.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PYTHON: &str = "/usr/bin/python3";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/gst_rtsp_server.py");

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

/// Fails the test (never skips) when the RTSP server's runtime is missing.
pub fn require_rtsp_runtime() {
    assert!(
        Path::new(PYTHON).exists(),
        "{PYTHON} is missing: install Debian python3, python3-gi, gir1.2-gst-rtsp-server-1.0 and gstreamer1.0-plugins-{{base,good,ugly}} to run the RTSP tests"
    );
    let out = Command::new(PYTHON)
        .args(["-c", "import gi; gi.require_version('Gst','1.0'); gi.require_version('GstRtspServer','1.0'); from gi.repository import Gst, GstRtspServer"])
        .output()
        .expect("run /usr/bin/python3");
    assert!(
        out.status.success(),
        "python3 cannot load GstRtspServer through gi: install python3-gi and gir1.2-gst-rtsp-server-1.0 ({})",
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// `tests/support/gst_rtsp_server.py` running as a child; killed on drop (also on panic).
pub struct RtspServer {
    child: Option<Child>,
    pub port: u16,
}

impl RtspServer {
    /// Starts the server and waits (at most 15 s) until it says it is serving.
    pub fn start(port: u16, seconds: u32) -> Self {
        require_rtsp_runtime();
        let mut child = Command::new(PYTHON)
            .args([SCRIPT, &port.to_string(), &seconds.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gst_rtsp_server.py");
        let stdout = child.stdout.take().expect("child stdout");
        let server = Self { child: Some(child), port };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(15)).expect("RTSP server did not start within 15 s");
        assert!(line.starts_with("serving"), "RTSP server did not start: {line:?}");
        server
    }

    pub fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}/test", self.port)
    }

    /// Sends a signal by name (`"STOP"`, `"CONT"`) to the server, to simulate a hung server.
    pub fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("server running").id().to_string();
        let ok = Command::new("kill").args([format!("-{sig}"), pid]).status().expect("run kill");
        assert!(ok.success(), "kill -{sig} failed");
    }

    /// Kills the server now and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RtspServer {
    fn drop(&mut self) {
        self.kill();
    }
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
