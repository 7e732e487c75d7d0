"""What machine and software a benchmark ran on, recorded with every result.

Versions come from package metadata, never by importing the package (importing torch alone
takes seconds and would pull it into a process that must stay torch-free).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "cpu_model", "environment", "git_state", "package_versions",
           "peak_rss_bytes", "rss_bytes"]

#: distributions whose versions every report carries (``None`` when not installed)
PACKAGES = ("aura-sdk", "numpy", "scipy", "onnxruntime", "onnxruntime-gpu", "torch",
            "tensorrt", "pycuda", "psutil", "matplotlib", "pydantic")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution, ``None`` where absent."""
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = None
    return out


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                # x86 says "model name"; arm64 kernels say "Model" or only "CPU part"
                if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _physical_cores() -> int | None:
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
        return int(n) if n else None
    except ImportError:
        return None


def git_state(where: Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the source tree this package runs from (``None`` outside git)."""
    root = where or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": dirty}


def rss_bytes() -> int | None:
    """This process's resident set size now (psutil; ``/proc/self/statm`` without it)."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        pass
    try:
        with open("/proc/self/statm", encoding="utf-8") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_bytes() -> int | None:
    """This process's peak resident set size so far (``getrusage``: kB on Linux)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def environment(quick: bool, command: str | None = None) -> dict[str, Any]:
    """Everything a reader needs to reproduce or discount a run (``command``: how it was run)."""
    try:
        load = [float(x) for x in os.getloadavg()]
    except OSError:
        load = None
    cpus = os.cpu_count()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    ram = _ram_bytes()
    return {
        "timestamp_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "quick": quick,
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "logical_cpus": cpus,
        "cpus_usable": affinity,
        "physical_cores": _physical_cores(),
        "ram_gb": None if ram is None else round(ram / 2**30, 2),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": package_versions(),
        "git": git_state(),
        "load_average_at_start": load,
        "command": command if command is not None else " ".join(sys.argv),
    }
