"""AURA benchmarks: latency, throughput, memory and scale."""

from ._decode import run_decode_bench

__all__: list[str] = ["run_decode_bench"]
