"""The evaluation report: ``eval.json`` (every number) and ``report.md`` (tables, figures).

Both are written from the one dict :func:`~aura_training.eval.evaluate` returns, so the
markdown can never show a number the JSON does not hold. Pure Python: no torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aura_sdk import ConfigError

__all__ = [
    "EVAL_FORMAT",
    "EVAL_VERSION",
    "ZERO_SHOT_GROUPS",
    "fmt",
    "load_eval",
    "render_report",
    "write_report",
]

EVAL_FORMAT = "aura-eval"
EVAL_VERSION = 1

#: Zero-shot groups, in report order, with their headings.
ZERO_SHOT_GROUPS: Mapping[str, str] = {
    "seen": "activities seen in training",
    "held_out": "activities held out of training (true zero-shot)",
    "all": "all activities of the split",
}


def fmt(x: Any, digits: int = 4) -> str:
    """A number for a table: fixed decimals for floats, ``-`` for a missing value."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _skip(section: Mapping[str, Any]) -> list[str]:
    return [f"Skipped: {section['skipped']}.", ""]


def _classification(section: Mapping[str, Any], heading: str) -> list[str]:
    lines = [heading, ""]
    if "skipped" in section:
        return lines + _skip(section)
    labels = section["labels"]
    lines += _table(["windows", "classes", "accuracy", "macro-F1", "chance"],
                    [[fmt(section["n"]), fmt(len(labels)), fmt(section["accuracy"]),
                      fmt(section["macro_f1"]), fmt(section["chance"])]])
    lines.append("")
    extra = [(k, v) for k, v in (("train accuracy", section.get("train_accuracy")),
                                 ("training windows", section.get("n_train")),
                                 ("L2", section.get("l2")),
                                 ("seconds", section.get("seconds"))) if v is not None]
    if extra:
        lines += [", ".join(f"{k} {fmt(v)}" for k, v in extra) + ".", ""]
    rows = [[lab, fmt(pc["support"]), fmt(pc["predicted"]), fmt(pc["precision"]),
             fmt(pc["recall"]), fmt(pc["f1"])]
            for lab, pc in section["per_class"].items() if pc["support"] or pc["predicted"]]
    lines += _table(["activity", "windows", "predicted", "precision", "recall", "F1"], rows)
    absent = [lab for lab, pc in section["per_class"].items()
              if not (pc["support"] or pc["predicted"])]
    if absent:
        lines += ["", f"Candidates with no window and no prediction: {', '.join(absent)}."]
    lines.append("")
    if section.get("confusion_png"):
        lines += [f"![confusion matrix]({section['confusion_png']})", ""]
    return lines


def _provenance(r: Mapping[str, Any]) -> list[str]:
    ck, data, model, spec = r["checkpoint"], r["data"], r["model"], r["input_spec"]
    if ck:
        ck_text = f"`{ck.get('path', '(in memory)')}`"
        if ck.get("sha256"):
            ck_text += f" (sha256 `{str(ck['sha256'])[:16]}...`)"
        for k in ("preset", "step", "epoch"):
            if ck.get(k) is not None:
                ck_text += f", {k} {ck[k]}"
    else:
        ck_text = "in-memory model (no checkpoint)"
    encs = ", ".join(f"{m}: {e['class']} ({e['parameters'] / 1e6:.2f} M params)"
                     for m, e in model["encoders"].items())
    gen = data.get("generator") or {}
    src = data.get("source", "?")
    if gen:
        src += f" ({gen.get('name', '?')} {gen.get('version', '?')}, seed {gen.get('seed', '?')})"
    where = f"`{data['path']}`" if data.get("path") else "loader samples (in memory)"
    if data.get("manifest_sha256"):
        where += f", manifest sha256 `{data['manifest_sha256'][:16]}...`"
    dropped = ", ".join(f"{k}: {v}" for k, v in data["dropped"].items()) or "none"
    env = r["environment"]
    run = []
    if ck.get("run"):
        pairs = ", ".join(f"imu-{m} {w:g}" for m, w in (ck.get("loss_pairs") or {}).items())
        run = [["training run", f"{ck['run']} (seed {ck.get('seed', '?')}; loss pairs {pairs}; "
                                f"temperature {fmt(ck.get('temperature'), 3)}; data "
                                f"`{ck.get('train_data', '?')}`)"]]
    rows = [
        ["checkpoint", ck_text],
        *run,
        ["model", f"{encs}; shared space {model['embed_dim']}-d"],
        ["IMU input", f"{spec['sample_rate_hz']:g} Hz x {spec['window_samples']} samples, "
                      f"gravity {spec['gravity']}"],
        ["data", f"{where}; source {src}"],
        ["split", f"{data['split']}: {data['clips']} clips, {data['windows']} windows of "
                  f"{r['settings']['window_s']:g} s (dropped: {dropped}); modalities "
                  f"{', '.join(data['modalities'])}"],
        ["learning split", data["train_split"]],
        ["environment", f"aura-sdk {env['aura_sdk']}, torch {env['torch']}, {env['device']}, "
                        f"{env['threads']} threads, Python {env['python']}"],
        ["created", r["created_utc"]],
    ]
    return _table(["", ""], rows)


def render_report(result: Mapping[str, Any]) -> str:
    """The markdown report of one evaluation dict (as :func:`evaluate` returns it).

    Raises:
        ConfigError: the dict is not an ``aura-eval`` result of a known version.
    """
    r = result
    if r.get("format") != EVAL_FORMAT or r.get("version") != EVAL_VERSION:
        raise ConfigError(f"not an {EVAL_FORMAT} v{EVAL_VERSION} result "
                          f"(format {r.get('format')!r}, version {r.get('version')!r})")
    data = r["data"]
    lines = [f"# AURA evaluation: {data['split']} split", ""]
    if r.get("command"):
        lines += ["Produced by", "", "```", str(r["command"]), "```", ""]
    lines += ["Every number below is also in `eval.json` beside this file.", "",
              "## Provenance", ""]
    lines += [*_provenance(r), ""]

    lines += ["## Cross-modal retrieval", "",
              "Each window of the split is a query against every window's other modalities; "
              "the rank is that of the first correct target. A caption shared by several "
              "windows is correct for all of them; tied scores count at their expected rank.",
              ""]
    ret = r["retrieval"]
    if ret:
        ks = sorted({int(k[2:]) for v in ret.values() for k in v if k.startswith("r@")})
        rows = [[d.replace("->", " → "), fmt(v["mrr"]), *[fmt(v[f"r@{k}"]) for k in ks],
                 fmt(v["mean_rank"], 1), fmt(v["queries"]), fmt(v["targets"])]
                for d, v in ret.items()]
        lines += _table(["query → target", "MRR", *[f"R@{k}" for k in ks], "mean rank",
                         "queries", "targets"], rows)
    else:
        lines.append("Skipped: the model and the data share only one modality.")
    lines.append("")

    settings = r["settings"]
    lines += ["## Zero-shot classification", "",
              f"Label prototypes: mean of normalised prompt embeddings over the "
              f"{settings['prompt_split']!r} templates, renormalised: "
              + "; ".join(f"\"{t}\"" for t in settings["prompt_templates"]) + ".", ""]
    for key, title in ZERO_SHOT_GROUPS.items():
        lines += _classification(r["zero_shot"][key], f"### {title.capitalize()}")

    lines += _classification(r["linear_probe"], "## Linear probe")
    if "skipped" not in r["linear_probe"]:
        lines += ["Multinomial logistic regression (L-BFGS, L2) on frozen IMU embeddings of "
                  f"the {data['train_split']!r} split, scored on this split's windows of "
                  "the same activities.", ""]
    lines += _classification(r["finetune"], "## Fine-tune transfer")
    if "skipped" not in r["finetune"]:
        c = r["finetune"]["config"]
        lines += [f"IMU encoder + linear head trained end to end on the "
                  f"{data['train_split']!r} split: {c['epochs']} epochs, batch "
                  f"{c['batch_size']}, AdamW lr {c['lr']:g} (head {c['head_lr']:g}), seed "
                  f"{c['seed']}; epoch losses "
                  + ", ".join(fmt(x, 3) for x in r["finetune"]["epoch_loss"]) + ".", ""]

    lines += ["## Timing", ""]
    lines += _table(["stage", "seconds"], [[k, fmt(v, 1)] for k, v in r["timing_s"].items()])
    lines.append("")
    return "\n".join(lines)


def write_report(result: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``eval.json`` and ``report.md`` into ``out_dir``.

    Returns:
        The path of ``report.md``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = render_report(result)
    (out / "eval.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    path = out / "report.md"
    path.write_text(text, encoding="utf-8")
    return path


def load_eval(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an ``eval.json`` (or the folder holding one) and check its format.

    Raises:
        ConfigError: the file is missing, not JSON, or not an ``aura-eval`` result.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "eval.json"
    try:
        r = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the evaluation {p}: {exc}; run aura eval first") from exc
    if not isinstance(r, dict) or r.get("format") != EVAL_FORMAT:
        raise ConfigError(f"{p} is not an {EVAL_FORMAT} result")
    if r.get("version") != EVAL_VERSION:
        raise ConfigError(f"{p} is {EVAL_FORMAT} v{r.get('version')}; this code reads "
                          f"v{EVAL_VERSION}: re-run aura eval")
    return r
