"""A plain-text live view of label events (one line each; works in any terminal or log)."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from ..live import Event, LabelEvent, StatusEvent

__all__ = ["EventPrinter"]


class EventPrinter:
    """Print events as aligned lines, or as JSON lines.

    Args:
        out: where to print.
        as_json: one JSON object per event instead of text.
        t0: host time shown as zero.
    """

    def __init__(self, out: TextIO | None = None, *, as_json: bool = False,
                 t0: float | None = None) -> None:
        self._out = out
        self.as_json = as_json
        self.t0 = t0

    @property
    def out(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout

    def __call__(self, ev: Event, truth: str | None = None) -> None:
        if self.t0 is None:
            self.t0 = ev.t_start if isinstance(ev, LabelEvent) else ev.t_host
        if self.as_json:
            d = dict(vars(ev))
            d["kind"] = ev.kind
            if truth is not None:
                d["truth"] = truth
            self.out.write(json.dumps(d, default=list) + "\n")
        elif isinstance(ev, LabelEvent):
            bar = "#" * round(ev.confidence * 20)
            mark = "" if truth is None else ("  ok" if truth == ev.label else f"  (is {truth})")
            self.out.write(
                f"{ev.t_end - self.t0:8.1f}s  {ev.stream[-18:]:>18}  {ev.label:<22} "
                f"{ev.confidence:5.2f} {bar:<20} {ev.latency_ms:6.1f} ms{mark}\n")
        elif isinstance(ev, StatusEvent):
            gap = f" ({ev.gap_s:.2f} s)" if ev.gap_s is not None else ""
            self.out.write(f"{ev.t_host - self.t0:8.1f}s  {ev.stream[-18:]:>18}  "
                           f"[{ev.kind}{gap}] {ev.detail}\n")
        self.out.flush()
