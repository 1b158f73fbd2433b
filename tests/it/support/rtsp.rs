//! A local GStreamer RTSP server (`gst_rtsp_server.py`, next to this file) as a child process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PYTHON: &str = "/usr/bin/python3";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/gst_rtsp_server.py");

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

/// `tests/it/support/gst_rtsp_server.py` running as a child; killed on drop (also on panic).
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
        super::signal(self.child.as_ref().expect("server running").id(), sig);
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
