"""Known-answer vectors and shared helpers for the vendor device tests (test_devices_*.py).

Every vector names its source next to it. "SDK" vectors are bytes and expected values taken
from the vendor's own unit tests; "derived" vectors were built here from the vendor's
documented formula or firmware conversion, and say so.
"""
