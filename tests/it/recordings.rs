//! Recordings: BVH re-read and cut by a simulated crash (also through Blender's importer when
//! installed), `.vrma` parsed back as glTF with the VRM animation extension, `mocapd.motion/1`
//! files cut mid-line, recorders that never overwrite, and `recover`.

use crate::sink::frames;
use crate::support::blender::blender_import;
use mocapd::bvh::Bvh;
use mocapd::motion::bvh::Units;
use mocapd::motion::MotionFrame;
use mocapd::sink::bvh::BvhRecorder;
use mocapd::sink::vrma::VrmaRecorder;
use mocapd::sink::{glb, Sink};
use mocapd::skeleton::forward_kinematics;
use mocapd::skeleton::rotation::Vec3;
use mocapd::skeleton::smpl::{JOINT_NAMES, NUM_JOINTS};
use mocapd::skeleton::smpl_fk;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

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
