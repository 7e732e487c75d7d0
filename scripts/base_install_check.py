"""What a device gets from `pip install aura-sdk` (and `[text]`): run with a torch-free venv.

    python scripts/base_install_check.py          # bundle labels
    python scripts/base_install_check.py --text   # also free-text labels (needs the text extra)

Exits non-zero, saying why, if torch gets imported, the embedded default bundle does not load,
or classify does not return probabilities.
"""

from __future__ import annotations

import math
import sys


def main(argv: list[str]) -> int:
    from aura_sdk import SensorSpec, load_bundle
    from aura_sdk._model import _default_bundle_path
    from aura_sdk._recording import read_recording

    model = load_bundle()
    rec = read_recording(_default_bundle_path().with_name("demo_session.npz"))
    span = rec.spans[1]  # walking in the shipped session
    keep = (rec.t >= span.start_s) & (rec.t < span.end_s)
    spec = SensorSpec(sample_rate_hz=rec.nominal_rate_hz())
    checks = [("bundle labels", ["sitting", "walking", "running", "cycling"])]
    if "--text" in argv:
        checks.append(("free-text labels", ["tightening a bolt", "strolling in a park"]))
    for what, labels in checks:
        probs = model.classify(rec.imu[keep], spec, labels=labels, t=rec.t[keep])
        total = sum(probs.values())
        if set(probs) != set(labels) or not math.isclose(total, 1.0, abs_tol=1e-4):
            print(f"classify with {what} returned {probs}", file=sys.stderr)
            return 1
        best = max(probs, key=probs.__getitem__)
        print(f"{what}: {span.label!r} window -> {best} ({probs[best]:.2f})")
    # the robots module imports without its extra and says which one to install when used
    import aura_sdk.ros
    from aura_sdk import MissingExtraError

    try:
        aura_sdk.ros.bag_topics(_default_bundle_path())
    except MissingExtraError as exc:
        if "aura-sdk[ros]" not in str(exc):
            print(f"reading a bag without the ros extra said: {exc}", file=sys.stderr)
            return 1
    except Exception as exc:  # anything else is the defect this check reports
        print(f"reading a bag without the ros extra raised {exc!r}", file=sys.stderr)
        return 1
    else:
        print("reading a bag without the ros extra did not fail", file=sys.stderr)
        return 1
    if "torch" in sys.modules:
        print("the device side imported torch", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
