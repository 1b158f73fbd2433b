"""Draws a soak's resident-memory curve (tools/soak.sh) and says whether it stayed within 5 %
after the first minute: judged on each minute's median (a leak moves every sample of a minute;
a buffer freed for a moment does not), with the raw samples' range reported beside it."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(out: Path) -> int:
    rows = [line.split("\t") for line in (out / "rss.tsv").read_text().splitlines()[1:]]
    t = [int(a) / 60 for a, _ in rows]
    rss = [int(b) / 1024 for _, b in rows]
    minutes: dict[int, list[float]] = {}
    for s, r in zip(t, rss):
        if s >= 1.0:
            minutes.setdefault(int(s), []).append(r)
    if not minutes:
        print("soak: shorter than a minute; nothing to judge", file=sys.stderr)
        return 1
    # A minute judged needs most of its samples (not the last one, cut by the stop).
    full = max(len(v) for v in minutes.values())
    med = {m: statistics.median(v) for m, v in sorted(minutes.items()) if len(v) * 2 >= full}
    ref = med[min(med)]
    drift = max(abs(v - ref) for v in med.values()) / ref * 100
    raw = [r for s, r in zip(t, rss) if s >= 1.0]
    last = med[max(med)]
    verdict = "within" if drift <= 5 else "NOT within"
    summary = (
        f"{t[-1]:.0f} min: per-minute median RSS {ref:.1f} MiB in minute 1, {min(med.values()):.1f}-{max(med.values()):.1f} "
        f"after it, {last:.1f} in the last: {drift:.2f} % drift, {verdict} 5 %; raw samples {min(raw):.1f}-{max(raw):.1f} MiB"
    )
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=110)
    ax.plot(t, rss, lw=0.6, color="tab:blue", alpha=0.5, label="RSS (every 5 s)")
    ax.plot([m + 0.5 for m in med], list(med.values()), lw=1.6, color="tab:blue", label="median per minute")
    ax.axhspan(ref * 0.95, ref * 1.05, color="tab:green", alpha=0.12, label="±5 % of minute 1")
    ax.set_xlabel("minutes")
    ax.set_ylabel("RSS (MiB)")
    ax.set_ylim(0, max(rss) * 1.15)
    ax.set_title(f"mocapd run, {t[-1]:.0f} min soak: {drift:.2f} % drift of the per-minute median", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "rss.png")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
