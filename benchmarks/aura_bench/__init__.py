"""AURA benchmarks: latency, throughput, memory and scale."""

__all__: list[str] = []
