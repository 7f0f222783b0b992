"""Files drawn with matplotlib for the CLI (the web UI renders its own SVG)."""
from __future__ import annotations

from typing import Any


def reliability_diagram(doc: dict[str, Any], path: str) -> None:
    """A reliability diagram of a calibration document, saved as SVG or PNG by extension."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = [b for b in doc["bins"] if b["count"]]
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], color="#999999", linewidth=1, linestyle="--", label="perfect")
    if bins:
        x = [b["mean_forecast"] for b in bins]
        y = [b["observed"] for b in bins]
        # Jeffreys intervals need not contain the observed frequency, so draw them as
        # segments rather than error bars relative to the point.
        ax.vlines(x, [b["low"] for b in bins], [b["high"] for b in bins], color="#1f5fa8",
                  linewidth=2, alpha=0.5, label="90% Jeffreys interval")
        ax.scatter(x, y, color="#1f5fa8", zorder=3, label="observed frequency")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="forecast probability", ylabel="observed frequency",
           title=f"Calibration: {doc['user']} ({doc['questions']} questions)")
    if doc.get("murphy"):
        m = doc["murphy"]
        ax.text(0.02, 0.97, f"Brier {m['brier']:.3f} = REL {m['reliability']:.3f}"
                f" - RES {m['resolution']:.3f} + UNC {m['uncertainty']:.3f}",
                transform=ax.transAxes, va="top", fontsize=8)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    # A fixed hash salt keeps SVG output identical from run to run.
    matplotlib.rcParams["svg.hashsalt"] = "forecasts"
    fig.savefig(path, metadata={"Date": None} if path.lower().endswith(".svg") else None)
    plt.close(fig)
