"""``python -m aura_bench.corpus [--quick] [--out FILE]``: synthetic corpus throughput."""

import sys

from ._corpus import main

if __name__ == "__main__":
    sys.exit(main())
