//! Replays the fuzz corpora (`tests/fuzz-corpus/TARGET/`: seeds, the inputs `examples/fuzz.rs`
//! kept because their error was new, and regressions of panics it found) through the readers of
//! untrusted input: each must answer with `Ok` or an error message, never panic or abort.
use std::path::Path;

fn replay(target: &str, read: impl Fn(&Path, &[u8]) -> Result<(), String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus").join(target);
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus folder") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("corpus file");
        let file = scratch.path().join("input");
        std::fs::write(&file, &bytes).expect("scratch");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&file, &bytes)));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        n += 1;
    }
    assert!(n >= 2, "{target}: only {n} corpus files in {}", dir.display());
    eprintln!("{target}: {n} corpus files, no panic");
}

#[test]
fn keypoint_reader_survives_its_corpus() {
    replay("keypoints", |p, _| {
        mocapd::pose::record::KeypointReader::open(p).and_then(|r| r.read_all()).map(|_| ()).map_err(|e| e.to_string())
    });
}

#[test]
fn bvh_parser_survives_its_corpus() {
    replay("bvh", |_, b| mocapd::bvh::Bvh::parse(&String::from_utf8_lossy(b)).map(|_| ()).map_err(|e| e.to_string()));
}

#[test]
fn config_loader_survives_its_corpus() {
    replay("config", |p, _| mocapd::config::Settings::load(Some(p)).map(|_| ()).map_err(|e| e.to_string()));
}

#[test]
fn motion_reader_survives_its_corpus() {
    replay("motion", |p, _| mocapd::motion::read_motion(p).map(|_| ()).map_err(|e| e.to_string()));
}
