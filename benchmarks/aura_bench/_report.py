"""``bench.md``: the markdown tables of a :func:`aura_bench._bench.run_bench` result."""

from __future__ import annotations

from typing import Any

from ._stats import get

__all__ = ["findings", "markdown", "row_label"]


def _f(x: Any, fmt: str = ".3g", none: str = "n/a") -> str:
    if x is None:
        return none
    try:
        return format(float(x), fmt)
    except (TypeError, ValueError):
        return str(x)


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{100 * float(x):.1f} %"


def _pcts(lat: dict[str, Any], with_max: bool = False) -> str:
    """``p50 / p90 / p99`` (and ``/ max``) of a latency summary, ``n/a`` where missing."""
    keys = ("p50_ms", "p90_ms", "p99_ms", "max_ms") if with_max else ("p50_ms", "p90_ms",
                                                                       "p99_ms")
    return " / ".join(_f(lat.get(k)) for k in keys) if lat else "n/a"


def _mb(n: Any) -> str:
    return "n/a" if n is None else f"{float(n) / 1e6:.2f} MB"


def row_label(row: dict[str, Any]) -> str:
    """What model a row measures, with its provenance (random weights said out loud)."""
    if row["id"].startswith("torch-"):
        m = row.get("model")
        if not isinstance(m, dict):
            return str(m)
        arch = m.get("architecture") or m.get("class") or "?"
        if m.get("random_weights"):
            return f"{row['role']} {arch}, random weights: latency only"
        return f"{row['role']} {m.get('run') or ''} ({arch})".replace("  ", " ")
    return str(row.get("model"))


def _ratio_lines(res: dict[str, Any]) -> list[str]:
    r = res["ratios"]
    lines = ["| comparison (same run) | value | measured |", "| --- | --- | --- |"]
    t = r.get("bundle_vs_teacher_torch", {})
    if "latency_speedup_p50" in t:
        role = t["bundle_role"]
        note = " (teacher with random weights: latency only)" if t["teacher_random_weights"] \
            else ""
        lines.append(f"| bundle ({role}, {t['denominator']}: what the SDK runs) vs teacher "
                     f"torch eager: batch-1 p50 speed-up{note} | "
                     f"**{_f(t['latency_speedup_p50'], '.2f')}x** | "
                     f"{_f(t['teacher_p50_ms'])} ms vs {_f(t['bundle_p50_ms'])} ms |")
        lines.append(f"| same, best throughput ratio | **{_f(t['throughput_ratio'], '.2f')}x**"
                     f" | {_f(t['bundle_windows_per_s'], ',.0f')} vs "
                     f"{_f(t['teacher_windows_per_s'], ',.0f')} windows/s |")
    else:
        lines.append(f"| bundle vs teacher torch eager | n/a | {t.get('reason')} |")
    e = r.get("e2e_vs_raw_encoder", {})
    if "overhead_ratio_p50" in e:
        lines.append(f"| end-to-end processing (bytes -> LabelEvent) vs raw encoder "
                     f"({e['raw_row']}, batch 1), p50: the SDK's overhead | "
                     f"**{_f(e['overhead_ratio_p50'], '.2f')}x** | {_f(e['e2e_p50_ms'])} ms vs "
                     f"{_f(e['raw_p50_ms'])} ms "
                     f"(+{_f(e['overhead_ms_p50'])} ms) |")
    else:
        lines.append(f"| end-to-end vs raw encoder | n/a | {e.get('reason')} |")
    q = r.get("ort_int8_vs_fp32")
    if q:
        lines.append(f"| ONNX Runtime int8 vs fp32: batch-1 p50 speed-up | "
                     f"{_f(q['latency_speedup_p50'], '.2f')}x | {_f(q['fp32_p50_ms'])} ms vs "
                     f"{_f(q['int8_p50_ms'])} ms; throughput {_f(q['throughput_ratio'], '.2f')}x |")
    return lines


def findings(res: dict[str, Any]) -> list[str]:
    """What the numbers of this run say, in sentences computed from them."""
    out = []
    s = res["streaming"]
    ref = next((r for r in res["encoders"] if r["id"] == s["reference_row"]
                and r.get("status") == "ok"), None)
    if ref and ref.get("fraction_of_peak") is not None:
        best = ref["best_throughput"]
        out.append(
            f"The encoder the recogniser runs ({ref['id']}) reaches "
            f"{_pct(ref.get('fraction_of_peak_batch1'))} of this machine's measured float32 "
            f"GEMM peak ({_f(res['peak']['best_gflops'], '.0f')} GFLOP/s) at batch 1 and "
            f"{_pct(ref['fraction_of_peak'])} at its best batch ({best['batch']}).")
    e = s["e2e"]
    lat = e.get("latency") or {}
    raw = get(res, "ratios", "e2e_vs_raw_encoder", "raw_p50_ms")
    if lat and raw is not None:
        out.append(
            f"End to end, processing (bytes -> LabelEvent) takes {_f(lat['p50_ms'])} ms at p50 "
            f"against {_f(raw)} ms for the raw encoder; the encoder calls the recogniser "
            f"waits for take {_f(e.get('sdk_inference_ms_per_window'))} ms per window. "
            + (f"{e['windows_encoded_early']} of {e['events']} windows were encoded ahead "
               f"({_f(e.get('early_inference_ms_per_window'))} ms each, before the bytes "
               "that complete them came: a device at the model's rate whose samples sit on "
               "its grid has its window settled before the resampler's look-ahead confirms "
               "it), so their labels waited for no encoder call."
               if e.get("windows_encoded_early") else
               "No window was encoded ahead (that needs a device at the model's rate)."))
    idle = s.get("idle_calls")
    if idle:
        enc, one = idle["encoder_idle_ms"], idle["one_node_idle_ms"]
        out.append(
            f"A call made after the thread idled {_f(1e3 * idle['gap_s'], '.0f')} ms (a live "
            f"wrist's packets are that far apart) is slower than back to back: the encoder "
            f"takes {_f(enc['p50'])} ms at p50 (p90 {_f(enc['p90'])}) against "
            f"{_f(idle['encoder_back_to_back_ms']['p50'])} ms, and an onnxruntime call of a "
            f"one-node graph {_f(one['p50'])} ms against "
            f"{_f(idle['one_node_back_to_back_ms']['p50'])} ms. What the caches held does not "
            "survive the gap on this machine; one stream pays that on every step of its "
            "window's path, decoding to scoring.")
    sen = e.get("sensor_latency")
    ahead = e.get("resampler_lookahead_s")
    if sen and ahead is not None:
        out.append(
            f"Sensor to label (the window's last sample -> LabelEvent) takes "
            f"{_f(sen['p50_ms'])} ms at p50 and {_f(sen['p99_ms'])} ms at p99 for one wrist; "
            f"{_f(1e3 * ahead)} ms of it is the resampler's look-ahead, the rest "
            "packetisation, transport and processing.")
    scale = [r for r in s["scale"] if r.get("latency")]
    kept = [r for r in scale if r.get("keeps_up")]
    lost = [r for r in scale if not r.get("keeps_up")]
    if scale and not lost:
        out.append(f"One recogniser kept up with every stream count tried, up to "
                   f"{scale[-1]['streams']} (p99 {_f(scale[-1]['latency']['p99_ms'])} ms).")
    elif lost:
        first = lost[0]
        head = (f"One recogniser kept up with {kept[-1]['streams']} streams (p99 "
                f"{_f(kept[-1]['latency']['p99_ms'])} ms); at " if kept else "At ")
        out.append(
            head + f"{first['streams']} streams it fell behind: p99 "
            f"{_f(first['latency']['p99_ms'] / 1e3)} s, "
            f"{_f(first['events_per_s'], '.1f')} of {_f(first['events_per_s_offered'], '.1f')} "
            f"events/s offered, its process busy {_f(first.get('cores_busy'), '.2f')} cores. "
            "Stream processing (TCP reads, decoding, clock mapping, resampling, windowing, "
            "scoring) runs on one asyncio event loop, so one recogniser process gets one core "
            "for it; inference runs in a worker thread.")
    shares = [r["encoder_cpu_share_est"] for r in s["scale"]
              if r.get("encoder_cpu_share_est") is not None]
    if shares:
        out.append(
            f"The encoder is an estimated {_pct(min(shares))} to {_pct(max(shares))} of the "
            "recogniser's CPU across the scale runs: a stream's cost is the per-packet Python "
            "work around the model, not the model.")
    return out


def _encoder_lines(res: dict[str, Any]) -> list[str]:
    ok = [r for r in res["encoders"] if r.get("status") == "ok"]
    lines = [
        "| row | model | backend | precision | size | FLOPs / window | batch-1 p50 / p90 / p99 "
        "(ms) | best windows/s (batch) | GFLOP/s | of peak, batch 1 / best | RSS peak / growth "
        "(MB) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in ok:
        b1 = next((b for b in r["batches"] if b["batch"] == 1), None)
        lat = (f"{_f(b1['p50_ms'])} / {_f(b1['p90_ms'])} / {_f(b1['p99_ms'])}" if b1
               else "n/a")
        best = r.get("best_throughput") or {}
        frac, frac1 = r.get("fraction_of_peak"), r.get("fraction_of_peak_batch1")
        rss = r.get("rss_mb") or {}
        flops = r.get("flops_per_window")
        lines.append(
            f"| {r['id']} | {row_label(r)} | {r['backend']} | {r['precision']} | "
            f"{_mb(r.get('size_bytes'))} | {_f(flops / 1e6, '.1f') + ' M' if flops else 'n/a'}"
            f" | {lat} | {_f(best.get('windows_per_s'), ',.0f')} ({best.get('batch')}) | "
            f"{_f(r.get('achieved_gflops'), '.2f')} | "
            f"{_pct(frac1)} / {_pct(frac)} | "
            f"{_f(rss.get('peak'), '.0f')} / {_f(r.get('rss_growth_mb'), '.0f')} |")
    lines += ["", "Throughput by batch size:", "",
              "| row | batch | p50 (ms) | p99 (ms) | windows/s | runs |",
              "| --- | --- | --- | --- | --- | --- |"]
    for r in ok:
        for b in r["batches"]:
            lines.append(f"| {r['id']} | {b['batch']} | {_f(b['p50_ms'])} | {_f(b['p99_ms'])}"
                         f" | {_f(b['windows_per_s'], ',.0f')} | {b['runs']} |")
    bad = [r for r in res["encoders"] if r.get("status") != "ok"]
    if bad:
        lines += ["", "Rows not measured here:", "",
                  "| row | backend | precision | status | reason |",
                  "| --- | --- | --- | --- | --- |"]
        for r in bad:
            lines.append(f"| {r['id']} | {r['backend']} | {r['precision']} | {r['status']} | "
                         f"{str(r.get('reason', '')).replace('|', '/')} |")
    return lines


def _peak_lines(res: dict[str, Any]) -> list[str]:
    lines = ["| probe | best GFLOP/s | at n | sizes tried |", "| --- | --- | --- | --- |"]
    for name in ("numpy", "torch"):
        p = res["peak"].get(name, {})
        if p.get("status") == "ok":
            g = p["gemm"]
            lines.append(f"| {g['library']} | {_f(g['best_gflops'], '.1f')} | {g['best_n']} | "
                         f"{', '.join(str(s['n']) for s in g['sizes'])} |")
        else:
            lines.append(f"| {name} | n/a | | {p.get('reason', '')} |")
    return lines


def _pin_note(pin: dict[str, Any] | None) -> str:
    """Where the recogniser ran (``--threads 1`` pins it to the quietest core)."""
    if not pin:
        return " The recogniser ran wherever the OS put it."
    probe = ", ".join(f"core {c}: {_f(v.get('device_interrupts'), '.0f')} device "
                      f"interrupts since boot, lost {_f(v['lost_ms_per_s'], '.2f')} ms/s "
                      f"({_f(v['pauses_per_s'], '.1f')} pauses/s, worst "
                      f"{_f(v['worst_pause_ms'], '.1f')} ms)" for c, v in pin["probe"].items())
    return (f" The recogniser's thread ran pinned to core {pin['cpu']} in every streaming run "
            f"and the virtual devices on the others: the core with the fewest device "
            f"interrupts, then the least time lost by a {_f(pin['seconds'], 'g')}-s probe "
            f"spinning on every core at once ({probe}).")


def _stream_lines(res: dict[str, Any]) -> list[str]:
    s = res["streaming"]
    e = s["e2e"]
    lat = e.get("latency") or {}
    sen = e.get("sensor_latency") or {}
    ahead = e.get("resampler_lookahead_s")
    fast = sorted({r["speed"] for r in (e, *s["scale"])
                   if r["speed"] != 1 and r.get("sensor_latency")})
    lines = [
        f"One virtual AURA wrist ({e['device_rate_hz']:g} Hz, TCP, its own process) into "
        f"LiveRecognizer ({s['model']}), {e['seconds_of_data']:g} s of data at "
        f"{e['speed']:g}x, a window every {e['hop_s']:g} s. Processing latency runs from the "
        "arrival of the bytes that complete a window to its LabelEvent; sensor to label from "
        "the window's last sample, in host time, to the LabelEvent: it adds the resampler's "
        "look-ahead" + ("" if ahead is None else f" ({_f(1e3 * ahead)} ms here)")
        + ", packetisation and transport." + _pin_note(s.get("pinning")),
        "",
        "| events | processing p50 / p90 / p99 / max (ms) | sensor to label p50 / p90 / p99 / "
        "max (ms) | inference call per window, as the recogniser waits for it (ms) | CPU s per "
        "stream-second | encoder share of CPU (est.) |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {e['events']} | {_pcts(lat, True)} | {_pcts(sen, True)} | "
        f"{_f(e.get('sdk_inference_ms_per_window'))} | {_f(e['cpu_s_per_stream_per_s'])} | "
        f"{_pct(e.get('encoder_cpu_share_est'))} |",
        "",
        "Gateway scale: N wrists into one LiveRecognizer (windows ready together share one "
        "inference call; wrists start staggered over one hop). CPU is this process's "
        "(every thread), per stream per second of data.",
        "",
        "| streams | speed | real-time equivalent | events | events/s (offered) | processing "
        "p50 / p90 / p99 (ms) | sensor to label p50 / p90 / p99 (ms) | keeps up | CPU s per "
        "stream-s | streams per core | cores busy | encoder share of CPU (est.) | windows per "
        "call |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in s["scale"]:
        la = r.get("latency") or {}
        lines.append(
            f"| {r['streams']} | {r['speed']:g}x | {r['realtime_stream_equivalents']:g} | "
            f"{r['events']} | {_f(r['events_per_s'], '.1f')} "
            f"({_f(r['events_per_s_offered'], '.1f')}) | {_pcts(la)} | "
            f"{_pcts(r.get('sensor_latency') or {})} | "
            f"{'yes' if r.get('keeps_up') else '**no**'} | "
            f"{_f(r['cpu_s_per_stream_per_s'])} | {_f(r.get('streams_per_core'), '.0f')} | "
            f"{_f(r.get('cores_busy'), '.2f')} | {_pct(r.get('encoder_cpu_share_est'))} | "
            f"{_f(r.get('windows_per_inference_call'), '.2f')} |")
    if fast:
        lines += ["", f"Runs played faster than real time ({', '.join(f'{x:g}x' for x in fast)}"
                  "): the wrists' clocks run that much faster too, far beyond the drift the "
                  "recogniser's clock mapping accepts, so it keeps a skew of 1 and the sensor "
                  "to label time before the bytes arrive (look-ahead, packetisation) is counted "
                  "in the wrist's seconds, what a real-time wrist waits, and the processing in "
                  "the host's."]
    return lines


def _jetson_lines(res: dict[str, Any]) -> list[str]:
    j = res["jetson"]
    if j.get("status") != "ok":
        return [f"Skipped: {j.get('reason')}."]
    p = j["probe"]
    lines = [
        f"{p.get('device_model')}, L4T {p.get('l4t')}, JetPack {p.get('jetpack')}, TensorRT "
        f"{p.get('tensorrt')}, onnxruntime {p.get('onnxruntime')}; nvpmodel "
        f"{get(p, 'nvpmodel', 'mode')}; clocks pinned: {get(p, 'jetson_clocks', 'clocks_pinned')}.",
        "", "| engine | tool | trtexec latency p50 / p99 (ms) | qps |", "| --- | --- | --- | --- |"]
    for e in j.get("engines", []):
        lat = e.get("latency_ms") or {}
        lines.append(f"| {e['precision']} | {e['tool']} | {_f(lat.get('median'))} / "
                     f"{_f(lat.get('p99'))} | {_f(e.get('throughput_qps'), '.0f')} |")
    pw = j.get("power", {})
    if pw.get("status") == "ok":
        lines += ["", "| pass | windows/s | total power mean / peak (mW) | total is | "
                      "mJ per window above idle |", "| --- | --- | --- | --- | --- |"]
        for name, ps in pw["passes"].items():
            lines.append(f"| {name} | {_f(ps.get('windows_per_s'), ',.0f')} | "
                         f"{_f(ps.get('total_mean_mw'), '.0f')} / "
                         f"{_f(ps.get('total_peak_mw'), '.0f')} | {ps.get('total_is')} | "
                         f"{_f(ps.get('energy_mj_per_window_above_idle'))} |")
    else:
        lines += ["", f"Power: skipped ({pw.get('reason')})."]
    return lines


def _extras_lines(res: dict[str, Any]) -> list[str]:
    x = res["extras"]
    if x.get("status") == "skipped":
        return [f"Skipped: {x.get('reason')}."]
    from ._decode import markdown as decode_md
    from ._preprocess import markdown as pre_md

    return [decode_md(x["decode"]), "", "Preprocessing (one core):", "", pre_md(x["preprocess"])]


def _header(res: dict[str, Any]) -> list[str]:
    env = res["environment"]
    pk = env["packages"]
    git = env["git"]
    commit = (git["commit"] or "unknown")[:10] + (" (uncommitted changes)" if git["dirty"]
                                                  else "")
    cfg = res["config"]
    b = res["bundle"]
    lines = [
        f"`{env['command']}` · {env['timestamp_utc']} · commit {commit} · "
        f"{'quick' if env['quick'] else 'full'} run, {res['wall_s']:.0f} s",
        "",
        f"Machine: {env['cpu_model']} ({env['machine']}), {env['logical_cpus']} logical CPUs "
        f"({env['cpus_usable']} usable), {env['ram_gb']} GB RAM; {env['os']}; Python "
        f"{env['python']}; numpy {pk.get('numpy')}, onnxruntime {pk.get('onnxruntime')}, torch "
        f"{pk.get('torch') or 'not installed'}. Threads per backend: "
        f"{cfg['threads'] or 'each library default'}.",
    ]
    load = env.get("load_average_at_start")
    cpus = env.get("cpus_usable") or 1
    if load and load[0] >= 0.5 * cpus:
        lines += ["", f"> Other jobs were running: load average {load[0]:.1f} on {cpus} CPUs "
                      "when this run started. Every number here shares the CPU with them; "
                      "ratios (measured in the same run) are more robust than absolute times."]
        if not cfg["threads"] and cpus > 1:
            lines += [">", "> With each library's default thread count on a busy machine, "
                           "intra-op thread pools can stall waiting for each other (torch "
                           "eager most of all), which can inflate latencies many times over "
                           "and makes ratios against torch meaningless; rerun with "
                           "`--threads 1`."]
    lines += ["", f"Bundle: {b['name']} v{b['version']} at `{b['path']}`, role "
                  f"**{b['role']}** ({b['role_evidence']}); {_mb(b['bundle_bytes'])}, "
                  f"encoders {', '.join(b['precisions'])}, window {b['window'][0]} x "
                  f"{b['window'][1]} -> {b['embedding_dim']}-d, signature {b['signature']}."]
    return lines


def markdown(res: dict[str, Any], image_prefix: str = "") -> str:
    """The report as markdown; plots are linked as ``{image_prefix}latency_cdf.png`` etc."""
    found = findings(res)
    lines = ["# AURA benchmark report", "", *_header(res), "", "## Headline ratios", "",
             *_ratio_lines(res), ""]
    if found:
        lines += ["Findings of this run:", "", *[f"* {x}" for x in found], ""]
    lines += ["## Encoder latency, throughput, memory and FLOPs", "",
             *_encoder_lines(res), "", "## Machine peak (float32 GEMM probe)", "",
             *_peak_lines(res), "", "## End-to-end streaming latency and gateway scale", "",
             *_stream_lines(res), "", "## Jetson", "", *_jetson_lines(res), "",
             "## Decoder and preprocessing", "", *_extras_lines(res), ""]
    plots = res.get("plots", {})
    if plots.get("status") == "ok":
        lines += ["## Plots", ""]
        for name, title in (("latency_cdf", "Latency CDF per backend (batch 1) and end to end"),
                            ("scale", "Gateway scale")):
            if name in plots.get("files", {}):
                lines += [f"![{title}]({image_prefix}{plots['files'][name]})", ""]
    elif plots:
        lines += ["## Plots", "", f"Skipped: {plots.get('reason')}.", ""]
    return "\n".join(lines)
