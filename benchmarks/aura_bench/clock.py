"""``python -m aura_bench.clock [--quick] [--out FILE] [--json]``: clock mapping cost per packet."""

import sys

from ._clock import main

if __name__ == "__main__":
    sys.exit(main())
