//! A mutation fuzzer for mocapd's readers of untrusted input: the keypoint file reader
//! (`keypoints`), the BVH parser (`bvh`), the configuration loader (`config`) and the motion file
//! reader (`motion`). cargo-fuzz needs a nightly toolchain, which this project does not use, so
//! this is a plain loop: start from the seed files in `tests/fuzz-corpus/TARGET/`, mutate them
//! (bit flips, byte and line insertions, deletions and duplications, splices between seeds,
//! extreme numbers, truncation), run the reader under `catch_unwind`, and keep every input whose
//! error message is new (a cheap stand-in for coverage feedback) in the corpus. A panic is saved
//! as `crash-*` and fails the run.
//!
//! ```text
//! cargo run --release --example fuzz -- TARGET SECONDS [CORPUS_DIR]
//! ```
//! The integration test `fuzz_corpus` replays every kept file through the same readers.
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Runs one input through `target`'s reader; `Err` is the reader's message (fine), a panic is not.
fn run_target(target: &str, bytes: &[u8], scratch: &Path) -> Result<(), String> {
    let file = || -> PathBuf {
        std::fs::write(scratch, bytes).expect("write scratch input");
        scratch.to_path_buf()
    };
    match target {
        "keypoints" => {
            mocapd::pose::record::KeypointReader::open(&file()).and_then(|r| r.read_all()).map(|_| ()).map_err(|e| e.to_string())
        }
        "bvh" => mocapd::bvh::Bvh::parse(&String::from_utf8_lossy(bytes)).map(|_| ()).map_err(|e| e.to_string()),
        "config" => mocapd::config::Settings::load(Some(&file())).map(|_| ()).map_err(|e| e.to_string()),
        "motion" => mocapd::motion::read_motion(&file()).map(|_| ()).map_err(|e| e.to_string()),
        other => panic!("unknown target {other}: keypoints, bvh, config, motion"),
    }
}

/// Inputs kept per run (the corpus is committed: keep it small).
const MAX_KEPT: usize = 25;

const EXTREMES: [&str; 12] =
    ["1e20", "-1e20", "1e308", "-0", "0", "NaN", "inf", "18446744073709551616", "-1", "4294967296", "1e-45", "\"\""];

/// One random mutation of `input` (seeds: other corpus files for splices).
fn mutate(input: &[u8], seeds: &[Vec<u8>], rng: &mut StdRng) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let n = v.len().max(1);
        match rng.random_range(0..9) {
            0 if !v.is_empty() => {
                let i = rng.random_range(0..v.len());
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                let i = rng.random_range(0..=v.len());
                v.insert(i, rng.random());
            }
            2 if !v.is_empty() => {
                let i = rng.random_range(0..v.len());
                let len = rng.random_range(1..=16).min(v.len() - i);
                v.drain(i..i + len);
            }
            3 => v.truncate(rng.random_range(0..n)),
            4 => {
                // replace a number with an extreme one
                let text = String::from_utf8_lossy(&v).into_owned();
                let starts: Vec<usize> = text.char_indices().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i).collect();
                if let Some(&i) = starts.get(rng.random_range(0..starts.len().max(1))) {
                    let end =
                        text[i..].find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-')).map_or(text.len(), |e| i + e);
                    let rep = EXTREMES[rng.random_range(0..EXTREMES.len())];
                    v = format!("{}{rep}{}", &text[..i], &text[end..]).into_bytes();
                }
            }
            5 | 6 => {
                // duplicate, drop or swap whole lines
                let mut lines: Vec<Vec<u8>> = v.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let i = rng.random_range(0..lines.len());
                match rng.random_range(0..3) {
                    0 => lines.insert(i, lines[i].clone()),
                    1 if lines.len() > 1 => drop(lines.remove(i)),
                    _ => {
                        let j = rng.random_range(0..lines.len());
                        lines.swap(i, j);
                    }
                }
                v = lines.join(&b'\n');
            }
            7 if !seeds.is_empty() => {
                // splice: our head, another seed's tail
                let other = &seeds[rng.random_range(0..seeds.len())];
                let (a, b) = (rng.random_range(0..=v.len()), rng.random_range(0..=other.len()));
                v.truncate(a);
                v.extend_from_slice(&other[b..]);
            }
            _ => {
                let i = rng.random_range(0..=v.len());
                let tok: &[u8] = [&b"{"[..], b"}", b"[", b"]", b",", b"\"", b"\n", b"\r\n", b"\t", b"  "][rng.random_range(0..10)];
                v.splice(i..i, tok.iter().copied());
            }
        }
    }
    v
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: fuzz TARGET SECONDS [CORPUS_DIR]   (TARGET: keypoints, bvh, config, motion)");
        std::process::exit(2);
    }
    let (target, seconds) = (args[1].as_str(), args[2].parse::<f64>().expect("SECONDS must be a number"));
    let dir = args.get(3).map(PathBuf::from).unwrap_or_else(|| Path::new("tests/fuzz-corpus").join(target));
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    assert!(!corpus.is_empty(), "no seed files in {}", dir.display());
    std::panic::set_hook(Box::new(|_| {}));
    let scratch = std::env::temp_dir().join(format!("mocapd-fuzz-{target}-{}", std::process::id()));
    let mut rng = StdRng::seed_from_u64(u64::from(std::process::id()));
    let mut seen: HashSet<String> = HashSet::new();
    let (start, limit) = (Instant::now(), Duration::from_secs_f64(seconds));
    let (mut runs, mut kept, mut crashes) = (0u64, 0usize, 0usize);
    while start.elapsed() < limit {
        let base = corpus[rng.random_range(0..corpus.len())].clone();
        let input = mutate(&base, &corpus, &mut rng);
        runs += 1;
        match catch_unwind(AssertUnwindSafe(|| run_target(target, &input, &scratch))) {
            Ok(Ok(())) => {}
            Ok(Err(msg)) => {
                // Keep inputs whose message (without numbers, which vary) is new.
                let key: String = msg.chars().filter(|c| c.is_ascii_alphabetic() || *c == ' ').take(60).collect();
                if seen.insert(key) && kept < MAX_KEPT {
                    std::fs::write(dir.join(format!("kept-{runs:09}")), &input).expect("write corpus file");
                    corpus.push(input);
                    kept += 1;
                }
            }
            Err(_) => {
                let path = dir.join(format!("crash-{runs:09}"));
                std::fs::write(&path, &input).expect("write crash file");
                eprintln!("PANIC on {} (saved)", path.display());
                crashes += 1;
            }
        }
    }
    let _ = std::fs::remove_file(&scratch);
    println!("fuzz {target}: {runs} inputs in {:.0} s, {kept} kept, {crashes} panics", start.elapsed().as_secs_f64());
    if crashes > 0 {
        std::process::exit(1);
    }
}
