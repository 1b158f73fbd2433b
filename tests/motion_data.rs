//! Motion data tests: BVH read/write, error messages, fetched registry data, retargeting.
//! Tests that need real data call the fetch code themselves (cached in `data/raw/`).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use mocapd::data::bvh::{Bvh, BvhError};
use mocapd::data::bvh_write;
use mocapd::data::fetch::{fetch, FetchOptions, FetchedFile};

fn raw_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/raw")
}

/// Fetch once per test binary.
fn fetched() -> &'static [FetchedFile] {
    static FILES: OnceLock<Vec<FetchedFile>> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    FILES.get_or_init(|| match fetch(&raw_dir(), FetchOptions::default()) {
        Ok(f) => f,
        Err(e) => panic!("fetch failed: {e}"),
    })
}

fn fetched_file(name: &str) -> PathBuf {
    let f = fetched().iter().find(|f| f.path.file_name().is_some_and(|n| n == name));
    f.map(|f| f.path.clone()).unwrap_or_else(|| panic!("{name} not fetched"))
}

const SMALL: &str = "HIERARCHY\r\nROOT Hips\r\n{\r\n\tOFFSET 0 0 0\r\n\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\r\n\tJOINT Left Leg\r\n\t{\r\n\t\tOFFSET 10 -5 0\r\n\t\tCHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation\r\n\t\tJOINT Foot\r\n\t\t{\r\n\t\t\tOFFSET 0 -40 0\r\n\t\t\tCHANNELS 3 Xrotation Zrotation Yrotation\r\n\t\t\tEnd Site\r\n\t\t\t{\r\n\t\t\t\tOFFSET 0 0 12.5\r\n\t\t\t}\r\n\t\t}\r\n\t}\r\n}\r\nMOTION\r\nFrames: 2\r\nFrame Time: .0333333\r\n1 90.5 -3 10 20 30 10 -5 0 0 0 0 45 0 0\r\n1.5 91 -2.25 11 21 31 10.5 -5 0 1 2 3 40 0.125 -7\r\n";

#[test]
fn bvh_small_parses_any_channel_order_crlf_tabs_spaces_in_names() {
    let bvh = Bvh::parse(SMALL).expect("parses");
    assert_eq!(bvh.joints.len(), 3);
    assert_eq!(bvh.joints[1].name, "Left Leg");
    assert_eq!(bvh.joints[2].parent, Some(1));
    assert_eq!(bvh.joints[2].end_site, Some([0.0, 0.0, 12.5]));
    assert_eq!(bvh.num_channels(), 15);
    assert_eq!(bvh.frames.len(), 2);
    assert!((bvh.fps() - 30.0).abs() < 1e-3);
    // Foot: 45 degrees about X only.
    let (t, q) = bvh.local_pose(0).expect("frame 0");
    assert_eq!(t[0], [1.0, 90.5, -3.0]);
    let s = (std::f32::consts::FRAC_PI_8).sin();
    assert!((q[2][0] - s).abs() < 1e-6 && q[2][1].abs() < 1e-6);
}

#[test]
fn bvh_write_read_is_identity() {
    let bvh = Bvh::parse(SMALL).expect("parses");
    let again = Bvh::parse(&bvh_write::to_string(&bvh)).expect("re-parses");
    assert_eq!(bvh, again);
}

#[test]
fn bvh_real_files_round_trip() {
    for name in ["01_01.bvh", "01_03.bvh", "Boxing_Toes.bvh", "test_mocapbank.bvh", "test3.bvh"] {
        let bvh = Bvh::read(&fetched_file(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!bvh.frames.is_empty(), "{name}");
        let again = Bvh::parse(&bvh_write::to_string(&bvh)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(bvh, again, "{name}");
    }
}

fn parse_err(text: &str) -> String {
    match Bvh::parse(text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bvh_errors_are_clear() {
    // Truncated inside the hierarchy.
    let cut = &SMALL[..SMALL.find("End Site").expect("has End Site")];
    let msg = parse_err(cut);
    assert!(msg.starts_with("truncated BVH: expected"), "{msg}");
    // Truncated frames.
    let msg = parse_err(SMALL.replace("Frames: 2", "Frames: 5").as_str());
    assert!(msg.contains("header says 5 frames, the file has 2"), "{msg}");
    // NaN.
    let msg = parse_err(SMALL.replace("90.5", "nan").as_str());
    assert!(msg.contains("NaN or infinite value `nan` at line 24"), "{msg}");
    // Wrong number of channel values.
    let msg = parse_err(SMALL.replace(" 0.125 -7", " 0.125").as_str());
    assert!(msg.contains("frame line 25 has 14 channel values, the hierarchy declares 15"), "{msg}");
    // Unknown keyword.
    let msg = parse_err(SMALL.replace("\tOFFSET 0 -40 0", "\tOFSET 0 -40 0").as_str());
    assert!(msg.contains("unknown keyword `OFSET` at line 12"), "{msg}");
    // Bad channel name, garbage number.
    let msg = parse_err(SMALL.replace("Xrotation Zrotation", "Wrotation Zrotation").as_str());
    assert!(msg.contains("unknown channel `Wrotation` at line 9"), "{msg}");
    let msg = parse_err(SMALL.replace("OFFSET 10 -5 0", "OFFSET 10 abc 0").as_str());
    assert!(msg.contains("not a number: `abc` at line 8"), "{msg}");
    assert!(matches!(Bvh::parse(""), Err(BvhError::Truncated { .. })));
}
