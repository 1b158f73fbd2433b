//! RTSP against a local GStreamer server: kill/restart reconnects, prompt shutdown while retrying.

use crate::support::rtsp::RtspServer;
use crate::support::{free_port, init_tracing, wait_until};
use mocapd::source::{open, RecvTimeoutError, SourceOptions, SourceSpec};
use std::time::{Duration, Instant};

fn live_opts() -> SourceOptions {
    SourceOptions {
        retry_first_open: true,
        reconnect_min: Duration::from_millis(250),
        reconnect_max: Duration::from_secs(2),
        network_timeout: Duration::from_secs(3),
        ..SourceOptions::default()
    }
}

#[test]
fn rtsp_kill_and_restart_reconnects() {
    init_tracing();
    let test_start = Instant::now();
    let port = free_port();
    let mut server = RtspServer::start(port, 60);
    let t0 = Instant::now();
    let h = open(&SourceSpec::parse(&server.url()).expect("parse"), &live_opts()).expect("open with retry");
    let first = h.recv_timeout(Duration::from_secs(15)).expect("first RTSP frame within 15 s");
    eprintln!("first RTSP frame {:?} after open", t0.elapsed());
    let info = h.info();
    assert_eq!((info.width, info.height), (640, 480));
    assert!(info.live);
    // A steady stream, not just the burst buffered while FFmpeg probed it: 1.5 s of frames.
    let mut last = first.seq;
    let steady = Instant::now();
    let mut n = 0;
    while steady.elapsed() < Duration::from_millis(1500) {
        last = h.recv_timeout(Duration::from_secs(5)).expect("steady RTSP frames").seq;
        n += 1;
    }
    assert!(n >= 30, "only {n} frames in 1.5 s of a 30 fps stream");
    let reconnects_before = h.stats().reconnects;

    server.kill();
    let killed = Instant::now();
    // Frames stop: within 8 s of the kill there is a 1.5 s gap with no frame.
    let mut stopped = false;
    while killed.elapsed() < Duration::from_secs(8) {
        match h.recv_timeout(Duration::from_millis(1500)) {
            Ok(f) => last = f.seq,
            Err(RecvTimeoutError::Timeout) => {
                stopped = true;
                break;
            }
            Err(RecvTimeoutError::Disconnected) => panic!("a live source must never end"),
        }
    }
    assert!(stopped, "frames kept coming after the server was killed");
    eprintln!("frames stopped {:?} after the kill (last seq {last})", killed.elapsed());

    let _server2 = RtspServer::start(port, 60);
    let restarted = Instant::now();
    let resumed = h.recv_timeout(Duration::from_secs(20)).expect("frames resume after the server restarts");
    eprintln!("frames resumed {:?} after the restart", restarted.elapsed());
    assert!(resumed.seq > last, "seq {} should follow {last}", resumed.seq);
    let stats = h.stats();
    assert!(stats.reconnects > reconnects_before, "{stats:?}");
    assert!(resumed.t > first.t);

    let t_close = Instant::now();
    assert!(h.close(), "live RTSP source thread should be joined");
    assert!(t_close.elapsed() < Duration::from_secs(2), "close took {:?}", t_close.elapsed());
    assert!(test_start.elapsed() < Duration::from_secs(60), "test took {:?}", test_start.elapsed());
}

#[test]
fn rtsp_retrying_source_closes_promptly() {
    let url = format!("rtsp://127.0.0.1:{}/test", free_port());
    let h = open(&SourceSpec::parse(&url).expect("parse"), &live_opts()).expect("retry_first_open returns at once");
    assert!(wait_until(Duration::from_secs(5), || h.stats().failed_connects >= 2), "{:?}", h.stats());
    assert_eq!(h.recv_timeout(Duration::from_millis(100)).err(), Some(RecvTimeoutError::Timeout));
    let t0 = Instant::now();
    assert!(h.close(), "thread should be joined");
    assert!(t0.elapsed() < Duration::from_secs(2), "close took {:?}", t0.elapsed());
}

#[test]
fn rtsp_hung_server_is_noticed_by_timeouts_and_recovers() {
    init_tracing();
    let server = RtspServer::start(free_port(), 60);
    let opts = SourceOptions { network_timeout: Duration::from_secs(2), ..live_opts() };
    let h = open(&SourceSpec::parse(&server.url()).expect("parse"), &opts).expect("open");
    let mut last = h.recv_timeout(Duration::from_secs(15)).expect("first frame").seq;
    let live_for = Instant::now();
    while live_for.elapsed() < Duration::from_secs(1) {
        last = h.recv_timeout(Duration::from_secs(5)).expect("steady frames").seq;
    }
    server.signal("STOP"); // the process hangs: TCP still accepts, nothing answers
    let hung = Instant::now();
    // The read timeout ends the stream, then the reconnect attempt times out too.
    let noticed = wait_until(Duration::from_secs(10), || h.stats().failed_connects >= 1);
    assert!(noticed, "hung server not noticed within 10 s: {:?}", h.stats());
    eprintln!("hung server noticed (read + open timeout) after {:?}", hung.elapsed());
    while let Ok(f) = h.recv_timeout(Duration::from_millis(10)) {
        last = f.seq;
    }
    server.signal("CONT");
    let resumed = h.recv_timeout(Duration::from_secs(20)).expect("frames resume after SIGCONT");
    assert!(resumed.seq > last);
    assert!(h.stats().reconnects >= 1, "{:?}", h.stats());
}
