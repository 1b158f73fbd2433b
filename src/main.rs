//! The `mocapd` binary: parses arguments, sets up logging, and calls the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use mocapd::commands::{self, keypoints::KeypointsJob};
use mocapd::config::Settings;
use std::path::PathBuf;
use std::process::ExitCode;

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
        /// Draw the skeletons: a .png contact sheet, or a .mp4/.avi/.mkv video of every frame.
        #[arg(long)]
        preview: Option<PathBuf>,
        /// Who drives the avatar: largest, central or id:N (overrides pose.performer).
        #[arg(long)]
        performer: Option<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,ort=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Keypoints { source, out, model, realtime, preview, performer } => {
            if let Some(m) = model {
                settings.pose.model_kind = m.parse().map_err(anyhow::Error::msg).context("--model")?;
            }
            if let Some(p) = performer {
                settings.pose.policy = p.parse().map_err(anyhow::Error::msg).context("--performer")?;
            }
            settings.source.pacing =
                if realtime { mocapd::source::Pacing::Native } else { mocapd::source::Pacing::Fast };
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
    }
}
