"""PNG plots of a bench result: latency CDF per backend, and the gateway scale curve.

matplotlib is optional (the ``bench`` extra): without it the plots are skipped with the
reason, and the rest of the report stands. Figures are drawn on the Agg canvas directly, so
no GUI backend or pyplot global state is involved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._stats import CDF_POINTS

__all__ = ["write_plots"]


def write_plots(res: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """Write ``latency_cdf.png`` and ``scale.png`` into ``out_dir``; what was written, or why not.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        return {"status": "skipped",
                "reason": f"matplotlib is not installed ({exc}); pip install 'aura-sdk[bench]'"}
    files: dict[str, str] = {}
    levels = [q / 100 for q in CDF_POINTS]

    fig = Figure(figsize=(8, 5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for r in res["encoders"]:
        if r.get("status") == "ok" and len(r.get("cdf_ms", [])) == len(levels):
            ax.plot(r["cdf_ms"], levels, label=f"{r['id']} (batch {r.get('cdf_batch', 1)})")
    e2e = res["streaming"]["e2e"]
    if len(e2e.get("cdf_ms", [])) == len(levels):
        ax.plot(e2e["cdf_ms"], levels, "k--", linewidth=2,
                label="end to end, processing (bytes -> event)")
    if len(e2e.get("sensor_cdf_ms", [])) == len(levels):
        ax.plot(e2e["sensor_cdf_ms"], levels, "k:", linewidth=2,
                label="end to end, sensor to label (last sample -> event)")
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("fraction of runs at or below")
    ax.set_ylim(0, 1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("IMU encoder latency per backend, and end-to-end streaming latency")
    fig.tight_layout()
    fig.savefig(out_dir / "latency_cdf.png")
    files["latency_cdf"] = "latency_cdf.png"

    scale = [r for r in res["streaming"]["scale"] if r.get("latency")]
    if scale:
        fig = Figure(figsize=(9, 4), dpi=110)
        FigureCanvasAgg(fig)
        a1, a2 = fig.subplots(1, 2)
        n = [r["streams"] for r in scale]
        a1.plot(n, [r["latency"]["p50_ms"] for r in scale], "o-", label="processing p50")
        a1.plot(n, [r["latency"]["p99_ms"] for r in scale], "s-", label="processing p99")
        sensor = [r for r in scale if r.get("sensor_latency")]
        if sensor:
            ns = [r["streams"] for r in sensor]
            a1.plot(ns, [r["sensor_latency"]["p50_ms"] for r in sensor], "o--",
                    label="sensor to label p50")
            a1.plot(ns, [r["sensor_latency"]["p99_ms"] for r in sensor], "s--",
                    label="sensor to label p99")
        a1.set_xlabel("concurrent streams")
        a1.set_ylabel("latency (ms, log scale)")
        a1.set_yscale("log")
        a1.legend()
        a2.plot(n, [100 * r["cpu_s_per_stream_per_s"] for r in scale], "o-")
        a2.set_xlabel("concurrent streams")
        a2.set_ylabel("CPU per stream (% of one core)")
        for ax in (a1, a2):
            ax.set_xscale("log", base=2)
            ax.set_xticks(n, [str(v) for v in n])
            ax.minorticks_off()
            ax.grid(True, which="both", alpha=0.3)
        speed = scale[0]["speed"]
        fig.suptitle("Gateway scale: N wrists into one LiveRecognizer"
                     + (f" (played at {speed:g}x)" if speed != 1 else ""))
        fig.tight_layout()
        fig.savefig(out_dir / "scale.png")
        files["scale"] = "scale.png"
    return {"status": "ok", "files": files}
