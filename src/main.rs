//! The `mocapd` binary: parses arguments, sets up logging, and calls the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use mocapd::commands::{self, keypoints::KeypointsJob};
use mocapd::config::Settings;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// How to train (the PyTorch package in python/, README "Training").
const TRAIN_COMMAND: &str = "PYTHONPATH=python .local/venv/bin/python -m mocapd_train --config config/train.toml";

#[derive(Parser)]
#[command(name = "mocapd", version, about = "Real-time motion capture: video in, 3D body motion out")]
struct Cli {
    /// Configuration file (TOML); every key is optional, see config/default.toml.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Track the performer's 2D keypoints in a video, camera, stream or image directory and write
    /// them as a `mocapd.keypoints/1` JSON Lines file.
    Keypoints {
        /// Video file, webcam index or /dev/videoN, rtsp:// or http:// URL, or image directory.
        source: String,
        /// Output keypoint file (.jsonl).
        #[arg(long)]
        out: PathBuf,
        /// Pose model: lightning, thunder or multipose (overrides pose.model).
        #[arg(long)]
        model: Option<String>,
        /// Replay files at their native frame rate, like a live stream (may drop frames).
        #[arg(long)]
        realtime: bool,
        /// Draw the skeletons: a .png/.jpg contact sheet, or a .mp4/.avi/.mkv video of every frame.
        #[arg(long)]
        preview: Option<PathBuf>,
        /// Who drives the avatar: largest, central or id:N (overrides pose.performer).
        #[arg(long)]
        performer: Option<String>,
    },
    /// Run the daemon: source → pose → diffusion denoiser → VMC/OSC senders and recorders, until
    /// the input ends or SIGINT/SIGTERM (recordings are finalised). Sinks: [sink.*], [record].
    Run {
        /// Source (overrides source.input): video, camera, stream, image directory or keypoint file.
        source: Option<String>,
    },
    /// Replay a video or keypoint recording at its native rate through the whole pipeline and
    /// report glass-to-wire latency, per-stage times, drops, jitter, CPU and memory.
    Bench {
        source: String,
        /// Stop after this many seconds (default: the whole input).
        #[arg(long, allow_hyphen_values = true)]
        duration: Option<f64>,
        /// Play the input again from its start when it ends (with --duration: a long run).
        #[arg(long = "loop")]
        looped: bool,
        /// Leave the first seconds out of every measure, drops included (start-up and warm-up).
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        warmup: f64,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Also draw the latency histogram into this PNG (nothing is written unless asked).
        #[arg(long)]
        histogram: Option<PathBuf>,
    },
    /// After a crash (kill -9, power cut), rebuild a take's recordings from its crash-safe
    /// mocapd.motion/1 file: writes the missing .vrma, and the .bvh when missing or shorter.
    Recover {
        /// The take: its .jsonl (or .bvh/.vrma), or its name without extension.
        take: PathBuf,
    },
    /// Motion data for training: fetch, build, preview, stats.
    #[command(subcommand)]
    Data(DataCommand),
    /// Training moved to the Python trainer (`python -m mocapd_train`, README "Training"); this
    /// command only says how to run it.
    Train {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<String>,
    },
    /// Lift a `mocapd.keypoints/1` file to SMPL-24 motion with the diffusion model.
    Lift {
        /// Keypoint file (.jsonl) from `mocapd keypoints`.
        keypoints: PathBuf,
        /// Output: .jsonl (mocapd.motion/1) or .bvh.
        #[arg(long)]
        out: PathBuf,
        /// DDIM steps (default: the lifter's).
        #[arg(long)]
        steps: Option<usize>,
        /// Classifier-free guidance weight (0 = conditional only; default: the lifter's).
        #[arg(long, allow_hyphen_values = true)]
        guidance: Option<f64>,
        /// Denoiser checkpoint (default: the bundled model).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Window hop in frames (150-frame windows; 100 = 50 frames of overlap; default: the lifter's).
        #[arg(long)]
        hop: Option<usize>,
        /// Seed of the sampling noise (default: the lifter's).
        #[arg(long)]
        seed: Option<u64>,
        /// Engine of the denoiser's per-step forward: onnxruntime (faster, the default) or candle.
        #[arg(long)]
        engine: Option<mocapd::model::onnx::Engine>,
        /// Also draw the input frames with their keypoints beside the lifted skeleton (camera and
        /// side views): a .png/.jpg contact sheet of 8 frames, or a .mp4/.avi/.mkv of every frame.
        #[arg(long)]
        preview: Option<PathBuf>,
        /// The video under the keypoints in the preview (default: the keypoint file's source when
        /// it exists; without one, a blank canvas of the recorded size).
        #[arg(long, requires = "preview")]
        video: Option<PathBuf>,
    },
    /// Evaluate a checkpoint on the held-out-subject test split (or --split val), per category:
    /// MPJPE, PA-MPJPE, acceleration error, jitter, foot skate of the model at each step count,
    /// next to a constant mean pose and a nearest-training-pose lookup on the same frames.
    Eval {
        /// Denoiser checkpoint (default: the bundled model).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Built data set (default: where `mocapd data build` writes).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Its split evaluated: test (the held-out subjects, default) or val.
        #[arg(long, value_parser = mocapd::lift::eval::parse_split)]
        split: Option<mocapd::data::build::Split>,
        /// DDIM step counts, comma-separated, each on the same windows from the same noise
        /// (default: 1,4,8; 1 = the model's own x0 estimate).
        #[arg(long, value_delimiter = ',', num_args = 1..)]
        steps: Vec<usize>,
        /// Classifier-free guidance weight (default: the evaluation's).
        #[arg(long, allow_hyphen_values = true)]
        guidance: Option<f64>,
        /// Ground-truth mocapd.motion/1 file (with --keypoints) instead of a split of --data.
        #[arg(long, requires = "keypoints")]
        gt: Option<PathBuf>,
        #[arg(long, requires = "gt")]
        keypoints: Option<PathBuf>,
        /// At most this many windows, spread evenly over the split (default 0 = all).
        #[arg(long)]
        max_windows: Option<usize>,
        /// Camera views per window: all, or one (its first; the default with --streaming).
        #[arg(long)]
        views: Option<mocapd::lift::Views>,
        /// Training frames in the nearest-training-pose lookup's library (0: no lookup; default
        /// 100000).
        #[arg(long)]
        nn_library: Option<usize>,
        /// Seed of the sampling noise and of the lookup's library (default: the evaluation's).
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        json: bool,
        /// Engine of the denoiser's per-step forward: onnxruntime (faster, the default) or candle.
        #[arg(long)]
        engine: Option<mocapd::model::onnx::Engine>,
        /// Also lift through the daemon's streaming path (the [pipeline] settings of --config, its
        /// steps too) with a fixed hop: one more column.
        #[arg(long)]
        streaming: bool,
        /// Frames between streaming updates (default: pipeline.hop, or 1 when it is adaptive).
        #[arg(long, requires = "streaming")]
        hop: Option<usize>,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Download the pinned, licence-clean motion packages from Debian and PyPI (sha256-checked).
    Fetch {
        /// Where the motion files go (default: where `data build` reads them).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Also fetch opt-in sources: `lafan1` (CC BY-NC-ND 4.0, never redistribute).
        #[arg(long)]
        include: Vec<String>,
    },
    /// Build the training set: 150-frame clips, 151-dim targets, paired noisy 2D keypoints.
    Build {
        /// Fetched motion files (default: where `data fetch` puts them).
        #[arg(long)]
        raw: Option<PathBuf>,
        /// Output folder of the training set (default: where `eval` reads it).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        seed: Option<u64>,
        /// Minutes of procedural motion added to the real takes.
        #[arg(long, allow_hyphen_values = true)]
        procedural_minutes: Option<f32>,
        /// With --bvh-dir takes: the most procedural motion may be of the training minutes
        /// (default 0.25; 1 = no cap).
        #[arg(long, allow_hyphen_values = true)]
        max_procedural_share: Option<f32>,
        /// Virtual cameras per clip.
        #[arg(long)]
        cameras: Option<usize>,
        /// Opt-in sources: `lafan1`.
        #[arg(long)]
        include: Vec<String>,
        /// A folder of BVH files to read where it is (repeatable), e.g. the CMU corpus: its
        /// MANIFEST.tsv picks each file's rig and CMU subject (held-out subjects make the val and
        /// test splits); without one, rigs are detected from joint names.
        #[arg(long = "bvh-dir", value_name = "DIR")]
        bvh_dirs: Vec<PathBuf>,
    },
    /// Draw a clip (BVH file, source name, take id or `procedural`) from three views plus its 2D projection.
    Preview {
        clip: String,
        #[arg(long)]
        out: PathBuf,
        /// Rig of a BVH file (cmu, cmu_cgspeed_max, cmu_cgspeed_daz, cmu_deepmimic_humanoid3d, lafan1,
        /// boxing, mocapbank, freemocap); detected when omitted.
        #[arg(long)]
        rig: Option<String>,
        /// Fetched motion files (default: where `data fetch` puts them).
        #[arg(long)]
        raw: Option<PathBuf>,
    },
    /// Minutes per source, split and category, clips, contact ratio, joint-angle ranges and the
    /// coverage of the held-out poses by the training poses of a built set.
    Stats {
        /// Built training set (default: where `data build` writes it).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Write a PNG histogram of the validation frames' coverage distances (mm) here.
        #[arg(long)]
        histogram: Option<PathBuf>,
    },
}

fn lafan1(include: &[String]) -> anyhow::Result<bool> {
    for name in include {
        anyhow::ensure!(name == "lafan1", "--include {name}: the only opt-in source is lafan1");
    }
    Ok(!include.is_empty())
}

fn main() -> ExitCode {
    // The denoiser runs on one core beside the pose stage: candle's CPU kernels use one thread.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    mocapd::pipeline::stats::steady_memory();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,ort=warn".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated, each cause once: a cause whose text the message
/// already holds (a `{source}` in the error's own message) is not repeated.
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1).map(|c| c.to_string()) {
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Keypoints { source, out, model, realtime, preview, performer } => {
            let mut settings = Settings::load(cli.config.as_deref())?;
            if let Some(m) = model {
                settings.pose.model_kind = m.parse().map_err(anyhow::Error::msg).context("--model")?;
            }
            if let Some(p) = performer {
                settings.pose.policy = p.parse().map_err(anyhow::Error::msg).context("--performer")?;
            }
            settings.source.pacing = if realtime { mocapd::source::Pacing::Native } else { mocapd::source::Pacing::Fast };
            let job = KeypointsJob { input: source, out: out.clone(), preview };
            let s = commands::keypoints::run(&job, &settings)?;
            eprintln!(
                "wrote {} frames to {} ({:.1} fps; performer seen in {} frames; {} dropped)",
                s.frames,
                out.display(),
                s.frames as f64 / s.seconds.max(1e-9),
                s.frames_with_performer,
                s.dropped
            );
            Ok(())
        }
        Command::Run { source } => {
            let settings = Settings::load(cli.config.as_deref())?;
            let input = source.unwrap_or_else(|| settings.input.clone());
            let r = commands::run::run(&input, &settings)?;
            eprintln!("stopped: {} poses in, {} motion frames out, {} dropped, {:.1} s", r.frames_in, r.frames_out, r.drops, r.seconds);
            for s in &r.sinks {
                eprintln!(
                    "  sink {}: {} frames, {} datagrams, {} send errors, {} failures",
                    s.name, s.stats.frames, s.stats.datagrams, s.stats.send_errors, s.errors
                );
            }
            Ok(())
        }
        Command::Bench { source, duration, looped, warmup, json, histogram } => {
            let settings = Settings::load(cli.config.as_deref())?;
            let o = commands::bench::BenchOptions { input: source, duration, looped, warmup, histogram };
            let r = commands::bench::run(&o, &settings)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                eprint!("{}", r.text());
            }
            Ok(())
        }
        Command::Recover { take } => {
            let r = commands::recover::run(&take, &Settings::load(cli.config.as_deref())?)?;
            eprint!("{}", r.text());
            Ok(())
        }
        Command::Data(cmd) => data(cmd),
        Command::Train { .. } => Err(commands::Error::Usage(format!(
            "mocapd trains with PyTorch now: run `{TRAIN_COMMAND}` (README, \"Training\"); `mocapd` loads the checkpoint it writes"
        ))
        .into()),
        Command::Lift { keypoints, out, steps, guidance, checkpoint, hop, seed, engine, preview, video } => {
            let d = mocapd::lift::LiftOptions::default();
            let o = mocapd::lift::LiftOptions {
                checkpoint: checkpoint.unwrap_or(d.checkpoint),
                steps: steps.unwrap_or(d.steps),
                guidance: guidance.unwrap_or(d.guidance),
                hop: hop.unwrap_or(d.hop),
                seed: seed.unwrap_or(d.seed),
                engine: engine.unwrap_or(d.engine),
                progress: true,
                ..d
            };
            let r = commands::lift::run(&keypoints, &out, &o, preview.as_deref(), video.as_deref())?;
            eprintln!(
                "wrote {} frames ({} inferred) to {} from {} windows in {:.1} s ({:.2} windows/s)",
                r.frames,
                r.inferred_frames,
                out.display(),
                r.windows,
                r.seconds,
                r.windows_per_second
            );
            match &r.reprojection {
                Some(e) => eprintln!(
                    "reprojection error: {:.1} px = {:.1} % of the performer's {:.0} px height ({} joints, weak-perspective camera per {} frames{})",
                    e.mean_px,
                    e.percent_of_height,
                    e.height_px,
                    e.joints,
                    e.block_frames,
                    if r.contract == mocapd::motion::Contract::FirstFrame { "; first-frame model: includes its heading" } else { "" }
                ),
                None => eprintln!("reprojection error: no confident keypoints to compare"),
            }
            if let Some(e) = r.reprojection.as_ref().filter(|e| e.blocks.len() > 1) {
                let blocks: Vec<String> = e
                    .blocks
                    .iter()
                    .map(|b| format!("{}-{} {:.1} px ({:.1} %)", b.start, b.start + b.frames - 1, b.mean_px, b.percent_of_height))
                    .collect();
                eprintln!("  per block of frames: {}", blocks.join(", "));
            }
            if let Some(p) = &r.preview {
                let on = p.video.as_ref().map_or_else(|| "a blank canvas".to_string(), |v| v.display().to_string());
                eprintln!("preview: {} ({} frames, {}x{}, on {on})", p.out.display(), p.frames, p.width, p.height);
            }
            Ok(())
        }
        Command::Eval {
            checkpoint,
            data,
            split,
            steps,
            guidance,
            gt,
            keypoints,
            max_windows,
            views,
            nn_library,
            seed,
            json,
            streaming,
            hop,
            engine,
        } => {
            let d = mocapd::lift::EvalOptions::default();
            let o = mocapd::lift::EvalOptions {
                checkpoint: checkpoint.unwrap_or(d.checkpoint),
                data: data.unwrap_or(d.data),
                split: split.unwrap_or(d.split),
                gt: gt.zip(keypoints),
                steps: if steps.is_empty() { d.steps } else { steps },
                guidance: guidance.unwrap_or(d.guidance),
                max_windows: max_windows.unwrap_or(d.max_windows),
                views: views.or(d.views),
                library: nn_library.unwrap_or(d.library),
                seed: seed.unwrap_or(d.seed),
                engine: engine.unwrap_or(d.engine),
                progress: !json,
                ..d
            };
            let settings = if streaming { Some(Settings::load(cli.config.as_deref())?.pipeline) } else { None };
            let hop = hop.or(settings.as_ref().and_then(|s| s.hop)).unwrap_or(mocapd::lift::stream_eval::TYPICAL_HOP);
            Ok(commands::eval::run(&o, json, settings.as_ref().map(|s| (s, hop)))?)
        }
    }
}

fn data(cmd: DataCommand) -> anyhow::Result<()> {
    use mocapd::data::{build::BuildOptions, preview::PreviewOptions};
    let d = BuildOptions::default();
    match cmd {
        DataCommand::Fetch { dir, include } => commands::data::fetch(&dir.unwrap_or(d.raw_dir), lafan1(&include)?)?,
        DataCommand::Build { raw, out, seed, procedural_minutes, max_procedural_share, cameras, include, bvh_dirs } => {
            let mut o = BuildOptions { include_lafan1: lafan1(&include)?, bvh_dirs, ..d };
            o.max_procedural_share = max_procedural_share.unwrap_or(o.max_procedural_share);
            o.raw_dir = raw.unwrap_or(o.raw_dir);
            o.out_dir = out.unwrap_or(o.out_dir);
            o.seed = seed.unwrap_or(o.seed);
            o.procedural_minutes = procedural_minutes.unwrap_or(o.procedural_minutes);
            o.cameras = cameras.unwrap_or(o.cameras);
            commands::data::build(&o)?
        }
        DataCommand::Preview { clip, out, rig, raw } => {
            let p = PreviewOptions::default();
            commands::data::preview(&PreviewOptions { clip, out, rig, raw_dir: raw.unwrap_or(p.raw_dir), ..p })?
        }
        DataCommand::Stats { dir, json, histogram } => commands::data::stats(&dir.unwrap_or(d.out_dir), json, histogram.as_deref())?,
    }
    Ok(())
}
