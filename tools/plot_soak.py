"""Draws a soak's resident-memory curve (tools/soak.sh) and says whether it stayed within 5 %
of its value after the first minute."""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(out: Path) -> int:
    rows = [line.split("\t") for line in (out / "rss.tsv").read_text().splitlines()[1:]]
    t = [int(a) / 60 for a, _ in rows]
    rss = [int(b) / 1024 for _, b in rows]
    after = [r for s, r in zip(t, rss) if s >= 1.0]
    if not after:
        print("soak: shorter than a minute; nothing to judge", file=sys.stderr)
        return 1
    ref = after[0]
    lo, hi = min(after), max(after)
    drift = max(hi - ref, ref - lo) / ref * 100
    verdict = "within" if drift <= 5 else "NOT within"
    summary = (
        f"RSS at 1 min {ref:.1f} MiB, after it {lo:.1f}-{hi:.1f} MiB, "
        f"end {rss[-1]:.1f} MiB: {drift:.2f} % drift, {verdict} 5 %"
    )
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=110)
    ax.plot(t, rss, lw=1.2)
    ax.axhspan(ref * 0.95, ref * 1.05, color="tab:green", alpha=0.12, label="±5 % of the 1-min value")
    ax.set_xlabel("minutes")
    ax.set_ylabel("RSS (MiB)")
    ax.set_ylim(0, max(rss) * 1.15)
    ax.set_title(f"mocapd run, {t[-1]:.0f} min soak: {drift:.2f} % drift after the first minute", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "rss.png")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
