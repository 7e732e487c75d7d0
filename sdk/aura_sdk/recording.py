"""Recordings on disk: what ``aura decode`` writes, and what replay
(``LiveRecognizer.from_replay``, ``aura live --replay``), ``aura simulate``, ``aura demo`` and
``aura retrain --recording`` read.

CSV ``t,ax,ay,az,gx,gy,gz`` (seconds, m/s^2, rad/s) or NPZ, with an optional ground-truth
timeline of :class:`LabelSpan`; label files are CSV ``start,end,label``. The formats are
described in :mod:`aura_sdk._recording`.
"""

from ._recording import (
    CSV_HEADER,
    LabelSpan,
    Recording,
    read_labels,
    read_recording,
    write_labels,
    write_recording,
)

__all__ = [
    "CSV_HEADER",
    "LabelSpan",
    "Recording",
    "read_labels",
    "read_recording",
    "write_labels",
    "write_recording",
]
