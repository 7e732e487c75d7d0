"""The C99 reference code (firmware_bridge/c) against the vector file and the Python codec.

Compiles ``aura_proto.c`` and the ``test/aura_cli.c`` harness with the system C compiler
(skipped, with the reason, when there is none) and checks byte-identical frames both ways:
C encodes -> expected hex -> Python decodes, and Python encodes -> C decodes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from aura_vectors import C_DIR, c_command_line, canonical, load_vectors, message_from_vector

from aura_bridge.aura import (
    AuraEncoder,
    AuraFrameError,
    AuraHello,
    AuraSampleFrame,
    AuraStreamDecoder,
    cobs_decode,
    cobs_encode,
    parse_frame,
    wrap_frame,
)
from aura_bridge.aura._decoder import MAX_ENCODED_LEN

VECTORS = load_vectors()
C_ERRORS = {"short": -1, "crc": -2, "length": -3, "type": -4, "value": -5, "version": -6}


SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g")
VARIANTS = {
    "table": ("-O2",),
    "bitwise": ("-O2", "-DAURA_CRC32_BITWISE"),
    # memory and UB errors abort the harness, so every test below doubles as a sanitizer run
    "sanitized": ("-O1", *SANITIZE),
}


def _compile(out_dir: Path, variant: str) -> Path:
    names = [os.environ.get("CC", ""), "cc", "gcc", "clang"]
    cc = next((path for n in names if n and (path := shutil.which(n))), None)
    if cc is None:
        pytest.skip("no C compiler ($CC, cc, gcc or clang) on PATH: the C code is not tested")
    exe = out_dir / f"aura_cli_{variant}"
    cmd = [cc, "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wshadow",
           "-Werror", *VARIANTS[variant], "-o", str(exe), str(C_DIR / "test" / "aura_cli.c"),
           str(C_DIR / "aura_proto.c")]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0 and variant == "sanitized":
        pytest.skip(f"{cc} cannot build with ASan/UBSan here: {res.stderr.strip()[:200]}")
    assert res.returncode == 0, f"C build failed:\n{' '.join(cmd)}\n{res.stderr}"
    return exe


@pytest.fixture(scope="module", params=list(VARIANTS))
def cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _compile(tmp_path_factory.mktemp("aura_c"), request.param)


def run_c(exe: Path, lines: list[str]) -> list[str]:
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0"}
    res = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=False, timeout=120, env=env)
    assert res.returncode == 0, f"{exe.name} failed ({res.returncode}):\n{res.stderr[-2000:]}"
    return res.stdout.splitlines()


def test_c_encodes_every_vector_byte_exact_and_python_decodes_it(cli: Path) -> None:
    vs = VECTORS["vectors"]
    out = run_c(cli, [c_command_line(v) for v in vs])
    assert len(out) == 2 * len(vs)
    for v, frame_line, wire_line in zip(vs, out[::2], out[1::2], strict=True):
        assert frame_line == f"FRAME {v['frame']}", v["name"]
        assert wire_line == f"WIRE {v['wire']}", v["name"]
        c_wire = bytes.fromhex(wire_line.split()[1])
        # C encodes -> Python decodes, through the low-level parser and the stream decoder
        assert canonical(parse_frame(cobs_decode(c_wire[:-1]))) == canonical(
            message_from_vector(v))
        dec = AuraStreamDecoder()
        msgs = dec.feed_messages(c_wire)
        assert dec.stats.frames_ok == 1 and dec.stats.frames_corrupt == 0
        if v["kind"] != "samples":
            assert canonical(msgs[0]) == canonical(message_from_vector(v))


def test_python_encodes_and_c_decodes_every_vector(cli: Path) -> None:
    vs = VECTORS["vectors"]
    lines = []
    for v in vs:
        frame = message_from_vector(v).to_frame()
        lines += [f"stream {wrap_frame(frame).hex()}", f"packet {frame.hex()}"]
    out = run_c(cli, lines)
    assert len(out) == 3 * len(vs)
    for i, v in enumerate(vs):
        expect = canonical(message_from_vector(v))
        assert out[3 * i] == expect, v["name"]
        assert out[3 * i + 1] == "STATS 1 0 0 0"
        assert out[3 * i + 2] == expect


def test_python_encoder_stream_decoded_by_c(cli: Path) -> None:
    hello = AuraHello.for_ranges(0xC0FFEE, 100.0, 8, 2000, gravity_removed=True)
    enc = AuraEncoder(hello, samples_per_frame=9, start_seq=65530)
    raw = np.random.default_rng(5).integers(-32768, 32768, (60, 6)).astype(np.int16)
    chunks = [enc.hello_bytes(), *enc.encode_counts(raw)]
    line_out = run_c(cli, [f"stream {b''.join(chunks).hex()}"])
    expect = [canonical(hello)] + [
        canonical(parse_frame(cobs_decode(c[:-1]))) for c in chunks[1:]]
    assert line_out[:-1] == expect
    assert line_out[-1] == f"STATS {len(chunks)} 0 0 0"
    values = [int(x) for ln in line_out[1:-1] for x in ln.split()[4:]]
    assert values == raw.ravel().tolist()
    assert [int(ln.split()[1]) for ln in line_out[1:-1]] == [65530, 65531, 65532, 65533, 65534,
                                                            65535, 0]


@pytest.mark.parametrize("r", VECTORS["reject"], ids=lambda r: r["name"])
def test_c_rejects_the_reject_vectors_with_the_same_reason(cli: Path, r: dict) -> None:
    assert run_c(cli, [f"packet {r['frame']}"]) == [f"ERR {C_ERRORS[r['error']]}"]


def test_c_stream_vector_messages_and_stats(cli: Path) -> None:
    s = VECTORS["streams"][0]
    out = run_c(cli, [f"stream {s['wire']}"])
    by_name = {v["name"]: v for v in VECTORS["vectors"]}
    names = {"HELLO": "hello_nano33_100hz", "COMMAND": "command_start", "ACK": "ack_start_ok"}
    expect = []
    for m in s["messages"]:
        name = m.split()[1] if m.startswith("SAMPLES") else names[m]
        expect.append(canonical(message_from_vector(by_name[name])))
    assert out[:-1] == expect
    assert out[-1] == (f"STATS {s['frames_ok']} {s['frames_corrupt']} {s['bytes_dropped']} "
                       f"{s['frames_ignored']}")


def test_c_crc_and_cobs_known_answers(cli: Path) -> None:
    out = run_c(cli, ["crc 313233343536373839", "cobs 11220033", "uncobs 0311220233",
                      "cobs " + bytes(range(1, 255)).hex(), "uncobs 0311", "uncobs 02110001"])
    assert out[:3] == ["CRC cbf43926", "HEX 0311220233", "HEX 11220033"]
    assert out[3] == "HEX ff" + bytes(range(1, 255)).hex()
    assert out[4:] == ["ERR -7", "ERR -7"]
    block = bytes(range(1, 255)).hex()
    assert run_c(cli, [f"uncobs ff{block}01", f"uncobs ff{block}010207"]) == [
        f"HEX {block}", f"HEX {block}0007"]


def python_reference(data: bytes) -> tuple[list[str], tuple[int, int, int, int]]:
    """What a receiver must report for ``data``: messages and (ok, corrupt, dropped, ignored)."""
    msgs, ok, corrupt, dropped, ignored = [], 0, 0, 0, 0
    for chunk in data.split(b"\x00")[:-1]:
        if not chunk:
            continue
        try:
            if len(chunk) > MAX_ENCODED_LEN:
                raise ValueError("overlong")
            msg = parse_frame(cobs_decode(chunk))
        except AuraFrameError as exc:
            if exc.code in ("type", "version"):
                ignored += 1
                continue
            corrupt, dropped = corrupt + 1, dropped + len(chunk)
            continue
        except ValueError:
            corrupt, dropped = corrupt + 1, dropped + len(chunk)
            continue
        ok += 1
        msgs.append(canonical(msg))
    return msgs, (ok, corrupt, dropped, ignored)


def test_c_and_python_agree_on_mutated_streams(cli: Path) -> None:
    rng = np.random.default_rng(99)
    hello = AuraHello.for_ranges(7, 50.0, 2, 250)
    lines, refs = [], []
    for _ in range(12):
        parts = [wrap_frame(hello.to_frame())]
        for seq in range(120):
            n = int(rng.integers(1, 20))
            raw = rng.integers(-300, 300, (n, 6)).astype(np.int16)
            w = bytearray(wrap_frame(AuraSampleFrame(seq, seq * 1000, raw).to_frame()))
            if rng.random() < 0.2:
                w[int(rng.integers(0, len(w)))] ^= 1 << int(rng.integers(0, 8))
            if rng.random() < 0.1:
                w += rng.integers(0, 256, int(rng.integers(1, 900)), dtype=np.uint8).tobytes()
            parts.append(bytes(w))
        data = b"".join(parts)[:30_000]
        lines.append(f"stream {data.hex()}")
        refs.append(python_reference(data))
        dec = AuraStreamDecoder()
        dec.feed(data)
        st = dec.stats
        extra = st.extra["frames_unknown_type"] + st.extra["hello_unsupported_version"]
        assert (st.frames_ok, st.frames_corrupt, st.bytes_dropped, extra) == refs[-1][1]
    out = run_c(cli, lines)
    blocks, cur = [], []
    for ln in out:
        cur.append(ln)
        if ln.startswith("STATS"):
            blocks.append(cur)
            cur = []
    assert len(blocks) == len(refs)
    for block, (msgs, stats) in zip(blocks, refs, strict=True):
        assert block[:-1] == msgs
        assert block[-1] == "STATS " + " ".join(map(str, stats))
    assert sum(r[1][1] for r in refs) > 100  # the streams really were damaged


def test_c_cobs_never_writes_past_the_callers_buffer(cli: Path) -> None:
    frames = [v["frame"] for v in VECTORS["vectors"]]
    out = run_c(cli, [f"bounds {f}" for f in frames])
    assert out == [f"BOUNDS ok {len(cobs_encode(bytes.fromhex(f)))}" for f in frames]
