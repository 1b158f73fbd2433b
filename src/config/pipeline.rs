//! Validation of the `[pipeline]`, `[sink.vmc]`, `[sink.osc]` and `[record]` sections into
//! [`PipelineSettings`]; every error names its key. No I/O: targets are only checked to be
//! `host:port` (resolved when the sender is built) and the avatar path is kept (read then too).
use std::path::PathBuf;
use std::time::Duration;

use super::raw::{by_name, RawPipeline, RawRecord, RawSinks, BVH_UNITS};
use super::{invalid, pick, seconds, ConfigError};
use crate::pipeline::smooth::Smoothing;
use crate::pipeline::{PipelineSettings, RecordSettings};
use crate::sink::osc::OscConfig;
use crate::sink::take::TIME_PLACEHOLDER;
use crate::sink::unity::UnityConfig;
use crate::sink::vmc::VmcConfig;

/// A `host:port` receiver address, checked for its form only (no DNS: the sender resolves it).
fn target(key: &'static str, v: String) -> Result<String, ConfigError> {
    let bad = |why: &str| invalid(key, format!("'{v}' {why}: give the receiver as host:port, e.g. 127.0.0.1:9000"));
    let Some((host, port)) = v.rsplit_once(':') else { return Err(bad("has no port")) };
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() || host.chars().any(char::is_whitespace) || host.contains(['[', ']']) {
        return Err(bad("has no valid host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(v),
        _ => Err(bad("has no valid port (1-65535)")),
    }
}

fn rate(key: &'static str, v: f32) -> Result<Option<f32>, ConfigError> {
    match v {
        0.0 => Ok(None),
        v if v.is_finite() && v > 0.0 && v <= 1000.0 => Ok(Some(v)),
        v => Err(invalid(key, format!("must be 0 (every frame) or a rate in (0, 1000] Hz, got {v}"))),
    }
}

fn path(v: Option<String>, d: Option<String>) -> Option<PathBuf> {
    v.or(d).filter(|s| !s.is_empty()).map(PathBuf::from)
}

/// A `[record]` path: a pattern whose only placeholder is `{time}` (see `sink::take`).
fn record_path(key: &'static str, v: Option<String>, d: Option<String>) -> Result<Option<PathBuf>, ConfigError> {
    let p = path(v, d);
    if let Some(p) = &p {
        if p.to_string_lossy().replace(TIME_PLACEHOLDER, "").contains(['{', '}']) {
            return Err(invalid(
                key,
                format!("'{}': the only placeholder is {TIME_PLACEHOLDER} (the take's local start time)", p.display()),
            ));
        }
    }
    Ok(p)
}

pub(super) fn resolve(
    d: &RawPipeline,
    u: &RawPipeline,
    ds: &RawSinks,
    us: &RawSinks,
    dr: &RawRecord,
    ur: &RawRecord,
) -> Result<PipelineSettings, ConfigError> {
    let checkpoint: String = pick(u.checkpoint.clone(), d.checkpoint.clone(), "pipeline.checkpoint")?;
    if checkpoint.is_empty() {
        return Err(invalid("pipeline.checkpoint", "must name a .safetensors checkpoint"));
    }
    let steps = pick(u.steps, d.steps, "pipeline.steps")?;
    if !(1..=1000).contains(&steps) {
        return Err(invalid("pipeline.steps", format!("must be between 1 and 1000, got {steps}")));
    }
    let guidance = pick(u.guidance, d.guidance, "pipeline.guidance")?;
    if !(guidance.is_finite() && (0.0..=20.0).contains(&guidance)) {
        return Err(invalid("pipeline.guidance", format!("must be in [0, 20], got {guidance}")));
    }
    let engine = pick(u.engine.clone(), d.engine.clone(), "pipeline.engine")?;
    let engine = engine.parse().map_err(|e: String| invalid("pipeline.engine", e))?;
    let hop = pick(u.hop, d.hop, "pipeline.hop")?;
    if hop > 150 {
        return Err(invalid("pipeline.hop", format!("must be 0 (adaptive) or at most 150 frames, got {hop}")));
    }
    let lookahead_frames = pick(u.lookahead_frames, d.lookahead_frames, "pipeline.lookahead_frames")?;
    if lookahead_frames > 60 {
        return Err(invalid("pipeline.lookahead_frames", format!("must be at most 60 frames, got {lookahead_frames}")));
    }
    let budget = pick(u.latency_budget_ms, d.latency_budget_ms, "pipeline.latency_budget_ms")?;
    if !(budget == 0.0 || budget.is_finite() && (10.0..=10_000.0).contains(&budget)) {
        return Err(invalid("pipeline.latency_budget_ms", format!("must be 0 (never degrade) or in [10, 10000] ms, got {budget}")));
    }
    let queue = |v: usize, key: &'static str| {
        if (1..=4096).contains(&v) {
            Ok(v)
        } else {
            Err(invalid(key, format!("must be between 1 and 4096, got {v}")))
        }
    };
    let pose_queue = queue(pick(u.pose_queue, d.pose_queue, "pipeline.pose_queue")?, "pipeline.pose_queue")?;
    let sink_queue = queue(pick(u.sink_queue, d.sink_queue, "pipeline.sink_queue")?, "pipeline.sink_queue")?;
    let secs = |uv: Option<f64>, dv: Option<f64>, key: &'static str| -> Result<Duration, ConfigError> { seconds(key, pick(uv, dv, key)?) };
    let max_root_speed = pick(u.max_root_speed, d.max_root_speed, "pipeline.max_root_speed")?;
    if !(max_root_speed.is_finite() && (0.0..=100.0).contains(&max_root_speed)) {
        return Err(invalid("pipeline.max_root_speed", format!("must be 0 (no limit) or a speed in (0, 100] m/s, got {max_root_speed}")));
    }
    let min_cutoff = pick(u.smoothing_min_cutoff, d.smoothing_min_cutoff, "pipeline.smoothing_min_cutoff")?;
    if !(min_cutoff.is_finite() && (0.0..=100.0).contains(&min_cutoff)) {
        return Err(invalid(
            "pipeline.smoothing_min_cutoff",
            format!("must be 0 (no smoothing) or a cutoff in (0, 100] Hz, got {min_cutoff}"),
        ));
    }
    let beta = pick(u.smoothing_beta, d.smoothing_beta, "pipeline.smoothing_beta")?;
    if !(beta.is_finite() && (0.0..=100.0).contains(&beta)) {
        return Err(invalid("pipeline.smoothing_beta", format!("must be in [0, 100], got {beta}")));
    }
    let status_interval = pick(u.status_interval_s, d.status_interval_s, "pipeline.status_interval_s")?;
    let status_every = if status_interval == 0.0 { None } else { Some(seconds("pipeline.status_interval_s", status_interval)?) };

    let (dv, uv) = (&ds.vmc, &us.vmc);
    let vmc = if pick(uv.enabled, dv.enabled, "sink.vmc.enabled")? {
        Some(VmcConfig {
            target: target("sink.vmc.target", pick(uv.target.clone(), dv.target.clone(), "sink.vmc.target")?)?,
            max_rate_hz: rate("sink.vmc.max_rate_hz", pick(uv.max_rate_hz, dv.max_rate_hz, "sink.vmc.max_rate_hz")?)?,
            ok_with_tracking: pick(uv.ok_with_tracking, dv.ok_with_tracking, "sink.vmc.ok_with_tracking")?,
            avatar_path: path(uv.avatar.clone(), dv.avatar.clone()),
            unity: UnityConfig {
                upper_chest: pick(uv.upper_chest, dv.upper_chest, "sink.vmc.upper_chest")?,
                avatar: None,
                avatar_hips_height: hips_height(pick(uv.avatar_hips_height, dv.avatar_hips_height, "sink.vmc.avatar_hips_height")?)?,
            },
        })
    } else {
        None
    };
    let (dosc, uo) = (&ds.osc, &us.osc);
    let osc = if pick(uo.enabled, dosc.enabled, "sink.osc.enabled")? {
        Some(OscConfig {
            target: target("sink.osc.target", pick(uo.target.clone(), dosc.target.clone(), "sink.osc.target")?)?,
            max_rate_hz: rate("sink.osc.max_rate_hz", pick(uo.max_rate_hz, dosc.max_rate_hz, "sink.osc.max_rate_hz")?)?,
        })
    } else {
        None
    };
    let bvh_units = by_name(&BVH_UNITS, &pick(ur.bvh_units.clone(), dr.bvh_units.clone(), "record.bvh_units")?)
        .map_err(|e| invalid("record.bvh_units", e))?;
    let record = RecordSettings {
        bvh: record_path("record.bvh", ur.bvh.clone(), dr.bvh.clone())?,
        bvh_units,
        vrma: record_path("record.vrma", ur.vrma.clone(), dr.vrma.clone())?,
        motion: record_path("record.motion", ur.motion.clone(), dr.motion.clone())?,
    };
    Ok(PipelineSettings {
        checkpoint: checkpoint.into(),
        steps,
        guidance,
        engine,
        hop: (hop > 0).then_some(hop),
        lookahead_frames,
        seed: pick(u.seed, d.seed, "pipeline.seed")?,
        latency_budget: (budget > 0.0).then(|| Duration::from_secs_f64(budget / 1e3)),
        max_root_speed: (max_root_speed > 0.0).then_some(max_root_speed),
        smoothing: (min_cutoff > 0.0).then_some(Smoothing { min_cutoff, beta }),
        mirror: pick(u.mirror, d.mirror, "pipeline.mirror")?,
        pose_queue,
        sink_queue,
        absent_timeout: secs(u.absent_timeout_s, d.absent_timeout_s, "pipeline.absent_timeout_s")?,
        idle_ease: secs(u.idle_ease_s, d.idle_ease_s, "pipeline.idle_ease_s")?,
        return_blend: secs(u.return_blend_s, d.return_blend_s, "pipeline.return_blend_s")?,
        status_every,
        vmc,
        osc,
        record,
    })
}

/// `sink.vmc.avatar_hips_height`: 0 means "from the avatar, else SMPL's".
fn hips_height(h: f32) -> Result<Option<f32>, ConfigError> {
    match h {
        0.0 => Ok(None),
        h if h.is_finite() && (0.2..=3.0).contains(&h) => Ok(Some(h)),
        h => Err(invalid("sink.vmc.avatar_hips_height", format!("must be 0 (automatic) or a height in 0.2..=3 m, got {h}"))),
    }
}
