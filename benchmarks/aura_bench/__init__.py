"""AURA benchmarks: latency, throughput, memory and scale (``aura bench``).

``run_bench(BenchConfig.preset(out_dir, quick=True))`` runs what ``aura bench --quick`` runs
and returns the ``bench.json`` dict; :mod:`aura_bench.jetson` is the Jetson runner. The
decoder, preprocessing, synthesis and corpus benchmarks run on their own as
``python -m aura_bench.<name>``.
"""

from ._bench import BenchConfig, run_bench
from ._decode import run_decode_bench

__all__: list[str] = ["BenchConfig", "run_bench", "run_decode_bench"]
