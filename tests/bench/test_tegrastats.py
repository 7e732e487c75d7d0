"""tegrastats line parser: NVIDIA's documented line shapes, known answers, and fuzzing.

Sample lines follow the field formats of NVIDIA's tegrastats documentation (L4T 32.5 appendix
"TegraStats", DRIVE OS "tegrastats Utility", Jetson Linux 35+ "tegrastats Utility"): Nano
(POM_ rails, bare numbers), Xavier NX (VDD_ rails, bare numbers), AGX Xavier (rails named
GPU / CPU / SOC), Orin (timestamp prefix, mW units, GR3D_FREQ with a frequency list).
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_bench._tegrastats import parse_line, parse_lines, summarize_power

NANO = ("RAM 1583/3956MB (lfb 201x4MB) SWAP 0/1978MB (cached 0MB) IRAM 0/252kB(lfb 252kB) "
        "CPU [2%@102,1%@102,0%@102,0%@102] EMC_FREQ 0%@204 GR3D_FREQ 0%@76 APE 25 PLL@27C "
        "CPU@29.5C PMIC@100C GPU@27.5C AO@36.5C thermal@28.5C POM_5V_IN 1185/1185 "
        "POM_5V_GPU 39/39 POM_5V_CPU 158/158")
XAVIER_NX = ("RAM 2123/7764MB (lfb 25x4MB) SWAP 0/3882MB (cached 0MB) "
             "CPU [10%,4%,2%,1%,off,off]@1190 EMC_FREQ 0% GR3D_FREQ 3% AO@42.5C GPU@41.5C "
             "VDD_IN 3447/3447 VDD_CPU_GPU_CV 537/537 VDD_SOC 1085/1085")
AGX_XAVIER = ("RAM 3227/15824MB (lfb 2578x4MB) SWAP 0/7912MB (cached 0MB) "
              "CPU [1%@1190,0%@1190] EMC_FREQ 0%@1600 GR3D_FREQ 0%@318 APE 150 MTS fg 0% "
              "bg 0% AO@31C GPU@31.5C Tdiode@33.75C GPU 0/0 CPU 310/310 SOC 1086/1086 CV 0/0 "
              "VDDRQ 155/155 SYS5V 1626/1626")
ORIN = ("11-14-2023 10:12:30 RAM 2448/62780MB (lfb 14114x4MB) SWAP 0/31390MB (cached 0MB) "
        "CPU [1%@729,0%@729,off,off] EMC_FREQ 0%@2133 GR3D_FREQ 12%@[305,305] VIC_FREQ 729 "
        "APE 174 CV0@-256C CPU@46.718C Tboard@34C VDD_GPU_SOC 2000mW/1987mW "
        "VDD_CPU_CV 400mW/412mW VIN_SYS_5V0 2800mW/2795mW VDDQ_VDD2_1V8AO 503mW/501mW")


def _rails(line: str) -> dict[str, tuple[float, float]]:
    s = parse_line(line)
    assert s is not None
    return {k: (v.current_mw, v.average_mw) for k, v in s.rails.items()}


def test_nano_pom_rails_ram_cpu_gpu_temperatures() -> None:
    s = parse_line(NANO)
    assert s is not None and s.timestamp is None
    assert _rails(NANO) == {"POM_5V_IN": (1185.0, 1185.0), "POM_5V_GPU": (39.0, 39.0),
                            "POM_5V_CPU": (158.0, 158.0)}
    assert (s.ram_used_mb, s.ram_total_mb) == (1583, 3956)
    assert s.cpu_load_pct == (2.0, 1.0, 0.0, 0.0)
    assert s.gpu_load_pct == 0.0
    assert s.temperatures_c["CPU"] == 29.5 and s.temperatures_c["thermal"] == 28.5


def test_xavier_nx_old_cpu_format_and_offline_cores() -> None:
    s = parse_line(XAVIER_NX)
    assert s is not None
    assert s.cpu_load_pct == (10.0, 4.0, 2.0, 1.0, None, None)
    assert s.gpu_load_pct == 3.0
    assert _rails(XAVIER_NX) == {"VDD_IN": (3447.0, 3447.0), "VDD_CPU_GPU_CV": (537.0, 537.0),
                                 "VDD_SOC": (1085.0, 1085.0)}


def test_agx_xavier_rails_named_like_units() -> None:
    # RAM/SWAP carry an MB unit and are not rails; GPU/CPU/SOC are rails on this module
    assert _rails(AGX_XAVIER) == {"GPU": (0.0, 0.0), "CPU": (310.0, 310.0),
                                  "SOC": (1086.0, 1086.0), "CV": (0.0, 0.0),
                                  "VDDRQ": (155.0, 155.0), "SYS5V": (1626.0, 1626.0)}


def test_orin_timestamp_units_and_frequency_list() -> None:
    s = parse_line(ORIN)
    assert s is not None
    assert s.timestamp == "11-14-2023 10:12:30"
    assert _rails(ORIN) == {"VDD_GPU_SOC": (2000.0, 1987.0), "VDD_CPU_CV": (400.0, 412.0),
                            "VIN_SYS_5V0": (2800.0, 2795.0),
                            "VDDQ_VDD2_1V8AO": (503.0, 501.0)}
    assert s.gpu_load_pct == 12.0
    assert s.cpu_load_pct == (1.0, 0.0, None, None)
    assert s.temperatures_c["CV0"] == -256.0 and s.temperatures_c["CPU"] == 46.718


def test_summary_uses_the_input_rail_where_documented_else_the_sum() -> None:
    lines = [NANO, NANO.replace("POM_5V_IN 1185/1185", "POM_5V_IN 1415/1300")]
    nano = summarize_power(parse_lines(lines))
    assert nano["total_is"] == "input rail POM_5V_IN"
    assert nano["total_mean_mw"] == pytest.approx(1300.0)
    assert nano["total_peak_mw"] == 1415.0
    assert nano["rails"]["POM_5V_GPU"] == {"mean_mw": 39.0, "peak_mw": 39.0, "samples": 2}
    orin = summarize_power(parse_lines([ORIN, "garbage", ""]))
    assert orin["samples"] == 1
    assert orin["total_is"] == "sum of rails"
    assert orin["total_mean_mw"] == 2000.0 + 400.0 + 2800.0 + 503.0
    assert summarize_power([])["total_mean_mw"] is None


def test_lines_without_fields_parse_to_none() -> None:
    for line in ("", "tegrastats: not running as root", "VDD_IN", "RAM 12/34kB"):
        assert parse_line(line) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_never_raises(text: str) -> None:
    s = parse_line(text)
    if s is not None:
        assert all(math.isfinite(r.current_mw) for r in s.rails.values())


_NAMES = st.from_regex(r"(VDD|POM|VIN)_[A-Z0-9]{1,6}(_[A-Z0-9]{1,4})?", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(rails=st.dictionaries(_NAMES, st.tuples(st.integers(0, 60000), st.integers(0, 60000)),
                             min_size=1, max_size=6),
       unit=st.booleans(), prefix=st.sampled_from([NANO.split(" POM_")[0], "", ORIN[:20]]),
       seed=st.randoms(use_true_random=False))
def test_generated_rails_come_back_exactly(rails, unit, prefix, seed) -> None:
    u = "mW" if unit else ""
    parts = [f"{name} {cur}{u}/{avg}{u}" for name, (cur, avg) in rails.items()]
    seed.shuffle(parts)
    line = " ".join(p for p in (prefix, *parts) if p)
    assert _rails(line) == {k: (float(c), float(a)) for k, (c, a) in rails.items()}
