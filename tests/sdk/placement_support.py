"""Toy bundles with a placement input: the ONNX splice and the manifest reseal the
placement tests share."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: the toy encoder's embedding width
DIM = 32


def with_placement(model: bytes, n: int, seed: int) -> bytes:
    """The toy encoder with an int64 ``placement`` input: ``h += table[placement]``."""
    proto = onnx.load_from_string(model)
    g = proto.graph
    table = np.zeros((n + 1, DIM), np.float32)
    table[1:] = 0.8 * np.random.default_rng(seed).standard_normal((n, DIM))
    g.initializer.append(numpy_helper.from_array(table, "placement_table"))
    g.input.append(helper.make_tensor_value_info("placement", TensorProto.INT64, ["batch"]))
    at = next(i for i, nd in enumerate(g.node) if "h" in nd.output)
    g.node[at].output[0] = "h_imu"
    new = [helper.make_node("Gather", ["placement_table", "placement"], ["h_place"], axis=0),
           helper.make_node("Add", ["h_imu", "h_place"], ["h"])]
    for k, nd in enumerate(new):
        g.node.insert(at + 1 + k, nd)
    onnx.checker.check_model(proto, full_check=True)
    return proto.SerializeToString()


def reseal(root: Path, edit) -> None:
    data = json.loads((root / "manifest.json").read_text())
    edit(data)
    for name in data["files"]:
        blob = (root / name).read_bytes()
        data["files"][name] = {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}
    (root / "manifest.json").write_text(json.dumps(data, indent=2))


def placement_bundle(root: Path, known: tuple[str, ...], *, seed: int, window: int,
                     rate: float, precisions: tuple[str, ...] = ("fp32", "int8")) -> Path:
    """The toy bundle at ``root`` with encoders that read ``known`` placements."""
    from aura_export import write_example_bundle

    write_example_bundle(root, window_samples=window, sample_rate_hz=rate, embedding_dim=DIM,
                         precisions=precisions)
    files = json.loads((root / "manifest.json").read_text())["encoder"]["files"]
    for name in {v for v in files.values() if v}:
        (root / name).write_bytes(with_placement((root / name).read_bytes(), len(known), seed))

    def edit(d):
        d["encoder"]["placement_name"] = "placement"
        d["encoder"]["placements"] = list(known)

    reseal(root, edit)
    return root
