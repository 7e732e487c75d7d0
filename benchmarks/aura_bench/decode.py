"""``python -m aura_bench.decode [--quick] [--out FILE] [--json]``: AURA decoder throughput."""

import sys

from ._decode import main

if __name__ == "__main__":
    sys.exit(main())
