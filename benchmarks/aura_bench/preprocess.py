"""``python -m aura_bench.preprocess [--quick] [--out FILE]``: preprocessing cost per rate."""

import sys

from ._preprocess import main

if __name__ == "__main__":
    sys.exit(main())
