"""Corpus streams at every placement: written, indexed, read back, drawn for training; and
corpora written before placements existed (wrist streams only, no locations in the
manifest) still load and train."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest

from aura_training.cli_data import _LOCATIONS, format_info, main
from aura_training.corpus import CorpusReader, CorpusWriter, load_manifest
from aura_training.corpus._imu import BODY_PLACEMENTS, WRISTS, virtual_imu_streams
from aura_training.corpus._synth import SynthConfig, synthesize_corpus
from aura_training.synth import LOCATIONS, generate_clip

pytest.importorskip("torch")

from aura_training.train import (
    DEFAULT_INPUT_SPEC,
    AugmentConfig,
    ClipWindower,
    WindowStream,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("placements") / "c"
    synthesize_corpus(root, SynthConfig(minutes=2.0, seed=17, shard_seconds=30.0,
                                        video=False, subjects=4, val_subjects=0.25,
                                        test_subjects=0.25))
    return root


@pytest.fixture(scope="module")
def old_corpus(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same clips as a pre-placement corpus: wrist streams only, manifest without
    ``locations``, clip params without placement fields."""
    root = tmp_path_factory.mktemp("old") / "c"
    with CorpusWriter(root, source="synth", shard_seconds=30.0) as w:
        for s in CorpusReader(corpus, ["train", "val", "test"]):
            imu = {loc: s.imu[loc] for loc in WRISTS}
            params = dict(s.params)
            params["imu"] = {loc: {k: v for k, v in s.params["imu"][loc].items()
                                   if k not in ("placement", "side", "device", "fit",
                                                "offset_m", "wobble")} for loc in WRISTS}
            w.add(dataclasses.replace(s, imu=imu, params=params))
    path = root / "manifest.json"
    raw = json.loads(path.read_text())
    for clip in raw["clips"]:
        del clip["locations"]
    path.write_text(json.dumps(raw))
    return root


#: placement kinds of the corpus's streams (wrists and the body sites)
BODY_PLACEMENTS_KINDS = ("wrist", "waist", "pocket", "upper_arm")


def _windower(locations: tuple[str, ...] | None = None) -> ClipWindower:
    return ClipWindower(DEFAULT_INPUT_SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                        augment=AugmentConfig(), locations=locations)


def test_every_clip_gets_both_wrists_and_each_body_placement() -> None:
    clip = generate_clip("walking", 12.0, seed=4)
    sides: set[str] = set()
    for k in range(8):
        streams, params = virtual_imu_streams(clip, np.random.default_rng(k))
        kinds = sorted(loc.split("_", 1)[1] for loc in streams)
        assert kinds == sorted(["wrist", "wrist", *BODY_PLACEMENTS])
        assert set(WRISTS) <= set(streams) and set(streams) <= set(LOCATIONS)
        for loc, st in streams.items():
            assert st.location == loc and params[loc]["placement"] == loc.split("_", 1)[1]
            assert params[loc]["side"] == loc.split("_")[0]
            assert params[loc]["device"] in ("watch", "phone", "board")
            assert len(params[loc]["offset_m"]) == 3
        sides |= {loc.split("_")[0] for loc in streams if not loc.endswith("wrist")}
    assert sides == {"left", "right"}
    wrists_only, _ = virtual_imu_streams(clip, np.random.default_rng(0), placements=())
    assert set(wrists_only) == set(WRISTS)
    assert _LOCATIONS == LOCATIONS  # the CLI's choices follow the generator


def test_round_trip_keeps_every_placement_and_the_manifest_lists_them(corpus: Path) -> None:
    m = load_manifest(corpus)
    n = len(m.clips)
    assert n > 0
    assert m.locations["left_wrist"] == m.locations["right_wrist"] == n
    for kind in BODY_PLACEMENTS:
        assert m.locations.get(f"left_{kind}", 0) + m.locations.get(f"right_{kind}", 0) == n
    by_id = {c.clip_id: c for c in m.clips}
    for s in CorpusReader(corpus, ["train", "val", "test"]):
        assert by_id[s.clip_id].locations == sorted(s.imu)
        assert len(s.imu) == 5
        for loc, st in s.imu.items():
            assert st.location == loc and st.data.shape == (st.t.size, 6)
            assert np.isfinite(st.data).all() and st.t.max() < s.duration_s
            # a still-ish placement reads about 1 g whatever the device, unless removed
            if not st.spec.gravity_removed:
                assert 7.0 < np.median(np.linalg.norm(st.data[:, :3], axis=1)) < 13.0
    out = io.StringIO()
    format_info(corpus, out)
    assert "imu streams" in out.getvalue() and "left_wrist" in out.getvalue()


def test_cli_info_json_lists_stream_locations(corpus: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(corpus), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["locations"]) >= set(WRISTS) and len(summary["locations"]) >= 5


def test_training_draws_streams_from_every_placement(corpus: Path) -> None:
    w = _windower()
    picked: list[str] = []
    clips = list(CorpusReader(corpus, "train"))
    for epoch in range(24):
        for s in clips:
            items = w(s, epoch)
            assert len({it.location for it in items}) <= 1  # one stream per clip and epoch
            picked += [it.location for it in items[:1]]
    kinds = [loc.split("_", 1)[1] for loc in picked]
    assert set(kinds) == {"wrist", *BODY_PLACEMENTS}
    assert 0.2 < kinds.count("wrist") / len(kinds) < 0.6  # 2 of a clip's 5 streams
    # the ablation: wrists only
    wrist = _windower(WRISTS)
    for s in CorpusReader(corpus, "train"):
        assert {it.location for e in range(4) for it in wrist(s, e)} <= set(WRISTS)
    # and a real batch goes through the loader path
    stream = WindowStream(corpus, "train", _windower(), batch_size=4, modalities=("imu",))
    batch = next(iter(stream))
    assert tuple(batch["imu"].shape) == (4, DEFAULT_INPUT_SPEC.window_samples, 6)


def test_a_corpus_written_before_placements_still_loads_and_trains(old_corpus: Path) -> None:
    m = load_manifest(old_corpus)
    assert m.clips and all(c.locations == [] for c in m.clips) and m.locations == {}
    out = io.StringIO()
    format_info(old_corpus, out)
    assert "imu streams" not in out.getvalue()
    w = _windower()
    seen = set()
    for s in CorpusReader(old_corpus, "train"):
        assert set(s.imu) == set(WRISTS)
        seen |= {it.location for e in range(4) for it in w(s, e)}
    assert seen == set(WRISTS)


def test_turned_streams_read_the_wearers_up_along_the_placement_axis(corpus: Path) -> None:
    """With ``upright_prob`` a stream whose placement is said is turned by the rotation that
    takes its mounting's up (from the corpus's ``mount_rot``) to the placement axis, and read
    as ``placement+upright``; its windows are the unturned ones turned (the rotation commutes
    with the preprocessing), and a stream without gravity is never turned."""
    from aura_sdk.preprocessing import UPRIGHT_AXES, UPRIGHT_SUFFIX

    kinds = (*BODY_PLACEMENTS_KINDS, *(k + UPRIGHT_SUFFIX for k in BODY_PLACEMENTS_KINDS))
    off = AugmentConfig(enabled=False)
    plain = ClipWindower(DEFAULT_INPUT_SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                         augment=off, placements=kinds)
    turned = ClipWindower(DEFAULT_INPUT_SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                          augment=off, placements=kinds, upright_prob=1.0)
    mean = np.asarray(DEFAULT_INPUT_SPEC.norm_mean)
    std = np.asarray(DEFAULT_INPUT_SPEC.norm_std)
    seen: set[str] = set()
    for sample in CorpusReader(corpus, ["train"]):
        for loc, stream in sample.imu.items():
            pid, turn = turned.frame(sample, loc, 0)
            name = loc.split("_", 1)[1]
            if stream.spec.gravity_removed:
                assert turn is None and pid == 1 + kinds.index(name)
                continue
            assert turn is not None and pid == 1 + kinds.index(name + UPRIGHT_SUFFIX)
            mount = np.asarray(sample.params["imu"][loc]["mount_rot"])
            np.testing.assert_allclose(turn @ mount.T @ UPRIGHT_AXES[name], UPRIGHT_AXES[name],
                                       atol=1e-9)
            one = dataclasses.replace(sample, imu={loc: stream})
            a, b = plain.imu_windows(one, 0), turned.imu_windows(one, 0)
            assert a is not None and b is not None
            si_a, si_b = a[0].x * std + mean, b[0].x * std + mean
            np.testing.assert_allclose(si_b[..., :3], si_a[..., :3] @ turn.T, atol=1e-3)
            np.testing.assert_allclose(si_b[..., 3:], si_a[..., 3:] @ turn.T, atol=1e-4)
            seen.add(name)
    assert {"wrist", "waist"} <= seen  # (gravity-removed devices are drawn at random)
    # told where up is per location (the wearer's walking leans off the rest axis), the
    # turn takes the mounting of that direction to the placement axis instead
    lean = np.array([0.1, 0.99, -0.08]) / np.linalg.norm([0.1, 0.99, -0.08])
    found = next(((smp, loc) for smp in CorpusReader(corpus, ["train"])
                  for loc, st in smp.imu.items()
                  if loc.endswith("_waist") and not st.spec.gravity_removed), None)
    assert found is not None, "no waist stream with gravity in the corpus"
    sample, loc = found
    leaning = ClipWindower(DEFAULT_INPUT_SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                           augment=off, placements=kinds, upright_prob=1.0,
                           upright_reference={loc: lean.tolist()})
    _, turn = leaning.frame(sample, loc, 0)
    mount = np.asarray(sample.params["imu"][loc]["mount_rot"])
    assert turn is not None
    np.testing.assert_allclose(turn @ mount.T @ lean, UPRIGHT_AXES["waist"], atol=1e-9)
    _, rest = turned.frame(sample, loc, 0)
    assert rest is not None and not np.allclose(turn, rest)
    # the turn has its own random numbers: a windower that never turns draws the same
    never = ClipWindower(DEFAULT_INPUT_SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                         augment=AugmentConfig(), placements=kinds, upright_prob=0.0)
    base = ClipWindower(DEFAULT_INPUT_SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                        augment=AugmentConfig(), placements=kinds)
    sample = next(iter(CorpusReader(corpus, ["train"])))
    for x, y in zip(never(sample, 2), base(sample, 2), strict=True):
        np.testing.assert_array_equal(x.imu, y.imu)
        assert x.placement == y.placement
