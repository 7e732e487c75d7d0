"""Turn an :class:`~aura_training.synth._spec.Activity` recipe into a pose-channel track."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from aura_training.synth._gait import gait
from aura_training.synth._schema import GenParams, SubjectParams
from aura_training.synth._signals import (
    band_noise,
    bouts,
    gaussian_smooth,
    hop_profile,
    min_jerk,
    modulated_phase,
    posture_shifts,
)
from aura_training.synth._skeleton import CH, CHANNELS, N_CH, body_frames, leg_drop
from aura_training.synth._spec import Activity, Event, Num

FloatArray = NDArray[np.float64]
_D = np.pi / 180.0
_LINEAR = frozenset({"root_z", "fwd_speed", "lat_speed", "heading_rate", "climb_rate"})
_ARM = ("sh_flex", "sh_abd", "sh_rot", "elbow", "pron")

#: Neutral stance (degrees): arms hanging slightly away from the body, knees soft.
NEUTRAL: dict[str, float] = {
    "b_sh_abd": 7.0,
    "b_elbow": 12.0,
    "b_pron": 15.0,
    "b_hip_abd": 3.0,
    "b_knee": 4.0,
    "b_hip_flex": 2.0,
}


def _resolve(name: str, hand: str, picked: str = "l") -> list[tuple[str, float, float]]:
    """Expand a side-relative channel name into ``(channel, phase offset, sign)`` triples.

    ``s_X`` is a whole-body channel written for a right-hander whose sign flips for the left
    hand (a right-hander's backswing turns the trunk right, a left-hander's left).
    """
    other = "r" if hand == "l" else "l"
    if len(name) > 2 and name[1] == "_" and name[0] in "dnbaxos":
        body, k = name[2:], name[0]
        if k == "s":
            return [(body, 0.0, 1.0 if hand == "r" else -1.0)]
        if k == "d":
            return [(f"{hand}_{body}", 0.0, 1.0)]
        if k == "n":
            return [(f"{other}_{body}", 0.0, 1.0)]
        if k == "b":
            return [(f"l_{body}", 0.0, 1.0), (f"r_{body}", 0.0, 1.0)]
        if k == "a":
            return [(f"{hand}_{body}", 0.0, 1.0), (f"{other}_{body}", 0.5, 1.0)]
        if k == "x":
            return [(f"{picked}_{body}", 0.0, 1.0)]
        return [(f"{'r' if picked == 'l' else 'l'}_{body}", 0.0, 1.0)]
    if name not in CH:
        raise KeyError(f"unknown pose channel {name!r}")
    return [(name, 0.0, 1.0)]


def _unit(channel: str) -> float:
    return 1.0 if channel in _LINEAR else _D


def _draw(rng: np.random.Generator, v: Num, jitter_deg: float) -> float:
    if isinstance(v, tuple):
        return float(rng.uniform(v[0], v[1]))
    return float(v + rng.normal(0.0, jitter_deg)) if jitter_deg else float(v)


def _base_pose(rng: np.random.Generator, base: Mapping[str, Num], hand: str) -> FloatArray:
    vals = np.zeros(N_CH)
    for name, v in base.items():
        x = _draw(rng, v, 0.0 if "_speed" in name or name in _LINEAR else 3.0)
        for ch, _, sign in _resolve(name, hand):
            vals[CH[ch]] = sign * x * _unit(ch)
    return vals


def _events(
    rng: np.random.Generator,
    events: tuple[Event, ...],
    base: FloatArray,
    hand: str,
    n: int,
    fs: float,
    speed: float,
) -> tuple[FloatArray, int]:
    """Offsets (radians) of all sporadic events over ``n`` frames and how many started."""
    out = np.zeros((n, N_CH))
    weights = np.array([e.weight for e in events])
    weights /= weights.sum()
    t = rng.uniform(0.0, max(e.gap[1] for e in events) * 0.5)
    count = 0
    last = "l"
    while t < n / fs:
        ev = events[int(rng.choice(len(events), p=weights))]
        # Sides alternate more often than not (punches, climbing reaches).
        picked = ("r" if last == "l" else "l") if rng.random() < 0.7 else last
        last = picked
        cur = np.zeros(N_CH)  # current offset from base
        touched: set[int] = set()
        count += 1
        for key in ev.keys:
            dur = rng.uniform(*key.dur) / speed
            tgt = cur.copy()
            if not key.pose and not key.hold:
                tgt[list(touched)] = 0.0
            for name, v in key.pose.items():
                chans = _resolve(name, hand, picked)
                if chans[0][0] in _LINEAR:
                    x = _draw(rng, v, 0.0) * float(rng.normal(1.0, 0.1))
                else:
                    x = _draw(rng, v, 6.0)
                for ch, _, sign in chans:
                    i = CH[ch]
                    tgt[i] = sign * x * _unit(ch) - base[i]
                    touched.add(i)
            i0, i1 = int(t * fs), int((t + dur) * fs)
            if i0 >= n:
                break
            s = min_jerk((np.arange(i0, min(i1, n)) / fs - t) / dur)
            out[i0 : min(i1, n)] += cur + np.outer(s, tgt - cur)
            cur = tgt
            t += dur
        t += rng.uniform(*ev.gap)
    return out, count


def _support_height(
    act: Activity, pose: FloatArray, subject: SubjectParams, rng: np.random.Generator, fs: float
) -> FloatArray:
    k = subject.height_m / 1.71
    if act.support == "feet":
        ankles, _ = leg_drop(pose, subject)
        tau = 0.008  # soft maximum: contact hands over smoothly between feet
        z = subject.ankle_height_m + tau * np.logaddexp(ankles[:, 0] / tau, ankles[:, 1] / tau)
        # Rigid legs would give the pelvis a kink at every double support; knee flexion at
        # loading and heel rise round it off in people (pelvis vertical acceleration stays
        # within about ±0.5 g in walking), which a 45 ms smoothing reproduces.
        return gaussian_smooth(z, fs, 0.045)
    if act.support == "knees":
        _, knees = leg_drop(pose, subject)
        tau = 0.008
        z = 0.05 * k + tau * np.logaddexp(knees[:, 0] / tau, knees[:, 1] / tau)
        return gaussian_smooth(z, fs, 0.045)
    if act.support == "seat":
        leg = subject.shank_m + subject.ankle_height_m
        return np.full(pose.shape[0], act.seat * leg * rng.uniform(0.93, 1.07) + 0.09 * k)
    if act.support == "floor":
        # Lowest body point 5 cm above the floor (body thickness), from the full skeleton;
        # smoothed so contact moving between body parts does not jerk the pelvis.
        n = pose.shape[0]
        joints, _ = body_frames(pose, subject, np.zeros((n, 3)), np.zeros(n))
        return gaussian_smooth(0.05 * k - joints[:, :, 2].min(axis=1), fs, 0.15)
    return np.full(pose.shape[0], subject.ankle_height_m + subject.thigh_m + subject.shank_m)


def _pushup(pose: FloatArray, subject: SubjectParams, phase: FloatArray, depth: float) -> None:
    """Closed-chain push-up: straight body pivoting on the toes, hands under the shoulders."""
    s = subject
    body = s.thigh_m + s.shank_m + s.trunk_m
    arm = s.upper_arm_m + s.forearm_m
    top = np.arcsin(np.clip((0.97 * arm + 0.04) / body, 0.0, 0.9))
    bottom = np.arcsin(np.clip((0.35 * arm + 0.04) / body, 0.0, 0.9))
    beta = top - (top - bottom) * depth * 0.5 * (1 - np.cos(2 * np.pi * phase))
    pitch = np.pi / 2 - beta
    d = body * np.sin(beta) - 0.04  # shoulder to hand, hand on the floor below the shoulder
    l1, l2 = s.upper_arm_m, s.forearm_m
    cos_el = np.clip((l1**2 + l2**2 - d**2) / (2 * l1 * l2), -1.0, 1.0)
    cos_sh = np.clip((l1**2 + d**2 - l2**2) / (2 * l1 * d), -1.0, 1.0)
    pose[:, CH["pelvis_pitch"]] = pitch
    pose[:, CH["root_z"]] = (s.thigh_m + s.shank_m) * np.sin(beta) + s.ankle_height_m
    for side in ("l", "r"):
        pose[:, CH[f"{side}_sh_flex"]] = pitch - np.arccos(cos_sh)
        pose[:, CH[f"{side}_elbow"]] = np.pi - np.arccos(cos_el)
        pose[:, CH[f"{side}_sh_abd"]] = 8 * _D
        pose[:, CH[f"{side}_pron"]] = 90 * _D
    for ch in ("hip_flex", "knee", "hip_abd"):
        pose[:, CH[f"l_{ch}"]] = pose[:, CH[f"r_{ch}"]] = 0.0


def synthesize(
    act: Activity, rng: np.random.Generator, subject: SubjectParams, n: int, fs: float
) -> tuple[FloatArray, GenParams]:
    """Pose channels ``(n, C)`` (radians, metres, m/s) of one activity, and its parameters."""
    info = act.info
    side = subject.handedness
    if info.hands == "dominant" and rng.random() < 0.1:
        side = "left" if side == "right" else "right"
    hand = side[0]
    intensity = float(rng.random())
    variant = ""
    base_map: dict[str, Num] = {**NEUTRAL, **act.base}
    if act.variants:
        variant = str(rng.choice(sorted(act.variants)))
        base_map.update(act.variants[variant])
    base = _base_pose(rng, base_map, hand)
    base[CH["pelvis_pitch"]] += subject.lean_rad * (info.posture in ("standing", "sitting"))
    pose = np.tile(base, (n, 1))
    tempo = subject.tempo * (0.9 + 0.2 * intensity)

    cadence = 0.0
    freq = 0.0
    phase = np.zeros(n)
    if act.freq[1] > 0:
        lo, hi = act.freq
        freq = lo + (hi - lo) * float(np.clip(0.5 * intensity + 0.5 * rng.random(), 0, 1))
        freq = float(np.clip(freq * subject.tempo, lo * 0.92, hi * 1.08))
        cadence = freq
        phase = modulated_phase(rng, n, fs, freq, wander=rng.uniform(0.01, 0.05))
        env = np.ones(n)
        if act.osc_bouts is not None:
            env = bouts(rng, n, fs, act.osc_bouts[0], act.osc_bouts[1], ramp_s=0.6)
        a_mod = 1.0 + 0.08 * band_noise(rng, n, fs, 0.02, 0.3)[:, 0]
        gain = subject.amplitude * (0.75 + 0.5 * intensity)
        for term in act.osc:
            amp = term.amp * gain * float(rng.lognormal(0.0, act.style))
            jit = rng.normal(0.0, 0.03)
            for ch, dph, sign in _resolve(term.channel, hand):
                if term.harmonic == 0:
                    val = amp * (phase - phase[0])
                else:
                    arg = 2 * np.pi * (term.harmonic * phase + term.phase + dph + jit)
                    val = amp * np.cos(arg) * a_mod
                pose[:, CH[ch]] += sign * val * env * _unit(ch)
        if act.hop is not None:
            period = 1.0 / (act.hop_harmonic * freq)
            # Flight from the recipe, but contact no longer than 0.8 s (deeper dips are not
            # what people do between repeated jumps).
            flight = float(np.clip(rng.uniform(*act.hop) / period, 1.0 - 0.8 / period, 0.7))
            hops = hop_profile(act.hop_harmonic * phase, flight, period)
            hops = gaussian_smooth(hops * env, fs, 0.01)
            if act.support == "feet":
                # The landing dip is knee and hip flexion (feet stay on the floor); only the
                # flight lifts the pelvis off its support height.
                leg = subject.thigh_m + subject.shank_m
                kappa = 2.0 * np.arccos(np.clip(1.0 - np.maximum(-hops, 0.0) / leg, -1.0, 1.0))
                for sd in "lr":
                    pose[:, CH[f"{sd}_knee"]] += kappa
                    pose[:, CH[f"{sd}_hip_flex"]] += 0.5 * kappa
                hops = np.maximum(hops, 0.0)
            pose[:, CH["root_z"]] += hops
        if act.special == "pushup":
            _pushup(pose, subject, phase, depth=0.6 + 0.4 * intensity)

    legs_before_gait = pose.copy() if act.gait is not None else None
    impacts: dict[str, FloatArray] = {}
    if act.gait is not None:
        deltas, impacts, f_step, _ = gait(rng, act.gait, subject, n, fs, intensity)
        for ch, val in deltas.items():
            pose[:, CH[ch]] += val
        cadence = f_step

    n_events = 0
    events = act.events_of(variant)
    if events:
        offs, n_events = _events(rng, events, base, hand, n, fs, tempo)
        pose += offs
        if info.pattern == "sporadic":
            cadence = n_events / (n / fs)

    if act.special == "climb":
        rise = rng.uniform(2.0, 5.0)
        env = bouts(rng, n, fs, (1.0, 3.0), (1.0, 4.0), ramp_s=0.8, start_on=False)
        up = np.cumsum(env)
        up = rise * up / max(up[int(0.75 * n) - 1], 1e-9)
        down = np.clip(np.arange(n) / n - 0.75, 0.0, 0.25) / 0.25
        pose[:, CH["root_z"]] += np.minimum(up, rise) * (1.0 - min_jerk(down))

    # Postural sway, fidgeting and looking around: present in every activity.
    arm_ch = [CH[f"{s}_{c}"] for s in "lr" for c in _ARM]
    pose[:, arm_ch] += act.fidget * _D * band_noise(rng, n, fs, 0.02, 0.25, len(arm_ch))
    pose[:, CH["neck_twist"]] += 6 * _D * band_noise(rng, n, fs, 0.02, 0.3)[:, 0]
    pose[:, CH["neck_flex"]] += 3 * _D * band_noise(rng, n, fs, 0.02, 0.3)[:, 0]
    # Seated and lying bodies still move: breathing rocks the pelvis and the belt on it.
    sway = subject.sway * {"lying": 0.55, "sitting": 0.45}.get(info.posture, 1.0)
    pose[:, [CH["fwd_speed"], CH["lat_speed"]]] += (
        0.012 * sway * band_noise(rng, n, fs, 0.1, 0.8, 2)
    )
    pose[:, [CH["pelvis_pitch"], CH["pelvis_roll"]]] += (
        0.4 * _D * sway * band_noise(rng, n, fs, 0.05, 0.6, 2)
    )
    if act.gait is None:
        # Weight shifts and settling: a few degrees of pelvis roll, pitch and yaw every 10-40 s
        # (the waist and pocket sensors of a resting person see these, not only the wrists).
        gap_s, scale = {"standing": (10.0, 1.0), "sitting": (18.0, 0.7),
                        "lying": (35.0, 0.8)}.get(info.posture, (15.0, 0.8))
        sh = posture_shifts(rng, n, fs, gap_s * rng.uniform(0.6, 1.6), 3)
        sh *= scale * subject.sway * _D * np.array([1.5, 2.0, 4.0])
        pose[:, [CH["pelvis_pitch"], CH["pelvis_roll"], CH["pelvis_yaw"]]] += sh
    pose[:, CH["heading_rate"]] += act.turn * band_noise(rng, n, fs, 0.01, 0.3)[:, 0]
    for ch, amp in act.wander.items():
        for c, _, _ in _resolve(ch, hand):
            pose[:, CH[c]] += amp * _unit(c) * band_noise(rng, n, fs, 0.01, 0.1)[:, 0]
    # Quick movements are low-passed more in smooth movers (neuromuscular bandwidth).
    pose = gaussian_smooth(pose, fs, 0.006 + 0.018 * subject.smoothness)
    for ch, val in impacts.items():  # foot contacts ring through the body unsmoothed
        pose[:, CH[ch]] += val

    if act.micro > 0:
        active = [
            CH[f"{s}_{c}"]
            for s in ("lr" if info.hands == "both" else hand)
            for c in ("elbow", "pron", "sh_rot")
        ]
        pose[:, active] += act.micro * _D * band_noise(rng, n, fs, 2.0, 8.0, len(active))
    if act.vibration > 0:
        # Displacement whose acceleration has roughly the requested RMS (centred on 10 Hz).
        acc_rms = act.vibration * rng.uniform(0.4, 1.6)
        vib = band_noise(rng, n, fs, 4.0, 20.0)[:, 0] * acc_rms / (2 * np.pi * 10.0) ** 2
        pose[:, CH["root_z"]] += vib
    # Physiological tremor, 7-12 Hz, ~0.01 g at the hand (Wade, Gresty & Findley, "A normative
    # study of postural tremor of the hand", Arch Neurol 39:358, 1982: 0.0015-0.035 g peak).
    trem = 6e-5 * subject.tremor * act.tremor
    f0 = subject.tremor_hz
    tr_ch = [CH[f"{s}_{c}"] for s in "lr" for c in ("sh_flex", "elbow", "pron")]
    pose[:, tr_ch] += trem * band_noise(rng, n, fs, f0 - 1.0, f0 + 1.0, len(tr_ch))

    if act.special != "pushup":
        # Gait sets its own centre-of-mass bounce; the support comes from the standing legs.
        ref = pose if legs_before_gait is None else legs_before_gait
        pose[:, CH["root_z"]] += _support_height(act, ref, subject, rng, fs)

    fwd, lat = pose[:, CH["fwd_speed"]], pose[:, CH["lat_speed"]]
    speed = float(np.mean(np.hypot(fwd, lat)))
    speed = speed if speed >= 0.05 else 0.0
    hand_word = {"dominant": side, "both": "both", "none": "none"}[info.hands]
    params = GenParams(
        speed_mps=round(speed, 2),
        cadence_hz=round(float(cadence), 3),
        intensity=round(intensity, 3),
        hand=hand_word,  # type: ignore[arg-type]
        posture=info.posture,
        setting=str(rng.choice(list(info.settings))),
        variant=variant,
    )
    return pose, params


__all__ = ["CHANNELS", "NEUTRAL", "synthesize"]
