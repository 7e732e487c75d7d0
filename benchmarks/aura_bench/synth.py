"""``python -m aura_bench.synth [--quick] [--out FILE]``: motion + virtual IMU throughput."""

import sys

from ._synth import main

if __name__ == "__main__":
    sys.exit(main())
