"""Gait: walking, running and stairs as harmonic joint-angle patterns scaled by speed.

Speed sets cadence and stride; stride sets hip excursion; speed sets arm swing. The numbers:

* Walking cadence rises with speed, ``f = 1.25 + 0.45 v`` steps/s for a 1.71 m adult: 1.65 Hz
  (99 steps/min) at 0.9 m/s, 1.85 Hz (111) at 1.34 m/s, 2.15 Hz (129) at 2.0 m/s, in line
  with treadmill cadences in Tudor-Locke et al., "Walking cadence (steps/min) and intensity
  in 21-40 year olds: CADENCE-adults", IJBNPA 16:8 (2019) (100 steps/min ~ 3 METs,
  130 steps/min ~ 6 METs). Taller people step slower (``(1.71/H)^0.25``).
* Running: ``f = 2.35 + 0.13 v``: 2.75 Hz (165 steps/min) at 3.04 m/s, +3.6 steps/min at
  15 % faster, matching van Oeveren et al., Eur J Sport Sci 19(10) 2019 (preferred 165 ± 8
  steps/min at 3.04 ± 0.28 m/s, +3 steps/min at +15 % speed; taller runners step slower).
* Arm swing: about 30° total arc at normal speed (Perry, "Gait Analysis", ch. 8), growing
  with speed; below ~0.8 m/s the arms swing at step rather than stride frequency (Wagenaar &
  van Emmerik, J Biomech 33:853, 2000). Elbows stay fairly straight walking and bend to about
  90° running.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from aura_training.synth._schema import GRAVITY, SubjectParams
from aura_training.synth._signals import band_noise, bouts, hop_profile, min_jerk, vm_bump
from aura_training.synth._spec import Gait

FloatArray = NDArray[np.float64]
_D = np.pi / 180.0


def step_frequency(kind: str, speed: float, subject: SubjectParams) -> float:
    """Steps per second for a gait kind at a speed (m/s), before per-bout wander."""
    h = (1.71 / subject.height_m) ** 0.25
    if kind == "run":
        f = (2.35 + 0.13 * speed) * h
        return float(np.clip(f * subject.tempo, 2.3, 3.5))
    if kind == "walk":
        f = (1.25 + 0.45 * speed) * h
        return float(np.clip(f * subject.tempo, 1.2, 2.4))
    # stairs: cadence is set by the step, not by speed (about 80-115 steps/min)
    return float(np.clip(speed * subject.tempo * h, 1.3, 2.1))


#: Peak vertical acceleration (g) of the foot-contact transient at the pelvis, per gait.
_IMPACT_G: dict[str, tuple[float, float]] = {
    "walk": (0.1, 0.35), "run": (0.8, 2.0), "stairs_up": (0.1, 0.35), "stairs_down": (0.2, 0.6)}


def foot_impacts(
    rng: np.random.Generator, kind: str, contacts: list[NDArray[np.intp]], env: FloatArray,
    speed: float, fs: float,
) -> dict[str, FloatArray]:
    """The body's ringing after each foot contact: root and pelvis deltas to add *after*
    the pose is smoothed (smoothing would erase them).

    Every heel strike sends a transient up the body: the pelvis reads a vertical spike of
    roughly 0.15-0.45 g walking (more running and stepping down) that rings for about a
    tenth of a second at 3.5-8 Hz (soft tissue and the skeleton's own resonance), with
    smaller braking (forward) and side-to-side parts and a small jolt of pelvis rotation.
    Without it a virtual belt phone walks far more smoothly than a real one: real waist
    recordings carry about a third to a half of their acceleration power above 3 Hz. Each
    transient is a windowed sinusoid of displacement
    ``(t / tau)^2 e^(2 - 2 t / tau) sin(w t)``, scaled so its acceleration peaks at ``A``: it
    starts at rest with no step in acceleration, rings and dies out, so the walk's path is
    unchanged.

    Args:
        rng: the clip's generator.
        kind: the gait kind (``walk``, ``run``, ``stairs_up``, ``stairs_down``).
        contacts: per foot, the sample indices of its contacts.
        env: ``(n,)`` moving envelope (no transient while standing still).
        speed: mean walking speed (m/s): faster walking lands harder.
        fs: frame rate.
    """
    n = env.size
    lo, hi = _IMPACT_G[kind]
    a_peak = rng.uniform(lo, hi) * GRAVITY
    if kind == "walk":
        a_peak *= float(np.clip((max(speed, 0.3) / 1.3) ** 1.5, 0.3, 1.3))
    f = rng.uniform(3.5, 8.0)
    tau = rng.uniform(0.06, 0.12)
    w = 2.0 * np.pi * f
    tk = np.arange(int(10 * tau * fs) + 1) / fs
    # zero value, slope and curvature at contact: the acceleration starts without a step
    ring = (tk / tau) ** 2 * np.exp(2.0 - 2.0 * tk / tau) * np.sin(w * tk)
    disp = -ring / max(float(np.abs(np.gradient(np.gradient(ring, tk), tk)).max()), 1e-12)
    turn = ring / max(float(np.abs(np.gradient(ring, tk)).max()), 1e-12)  # unit peak rate
    ratios = {"fwd": rng.uniform(0.3, 0.7), "lat": rng.uniform(0.1, 0.3)}
    # rad/s of pelvis roll, pitch and yaw per contact
    # (small: the skeleton is rigid and would carry a bigger jolt undamped out to the hands)
    spin = rng.uniform(0.05, 0.4) * np.array([1.0, rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.8)])
    out = {k: np.zeros(n) for k in ("root_z", "fwd_speed", "lat_speed", "pelvis_roll",
                                     "pelvis_pitch", "pelvis_yaw")}
    for side, idx in enumerate(contacts):
        pulses = np.zeros(n)
        idx = idx[(idx >= 0) & (idx < n)]
        pulses[idx] = env[idx] * rng.uniform(0.7, 1.3, size=idx.size)
        z = np.convolve(pulses, disp)[:n] * a_peak
        sign = 1.0 if side == 0 else -1.0
        out["root_z"] += z
        vel = np.gradient(z, 1.0 / fs)
        out["fwd_speed"] += -ratios["fwd"] * vel  # braking: the body is pushed back
        out["lat_speed"] += sign * ratios["lat"] * vel
        jolt = np.convolve(pulses, turn)[:n]
        out["pelvis_roll"] += sign * jolt * spin[0]
        out["pelvis_pitch"] += jolt * spin[1]
        out["pelvis_yaw"] += sign * jolt * spin[2]
    return out


#: Steps per flight of stairs (a storey of 2.5-3 m is 15-18 risers, often split by a
#: landing), seconds spent on a landing, and how a landing turns: half the time by 180°
#: (switchback stairwells), a fifth by 90°, the rest straight on.
_FLIGHT_STEPS = (7, 17)
_LANDING_S = (1.5, 3.5)
_LANDING_TURN_P = {np.pi: 0.5, np.pi / 2: 0.2, 0.0: 0.3}


def stair_landings(
    rng: np.random.Generator, n: int, fs: float, f_step: float,
) -> tuple[FloatArray, FloatArray]:
    """Flights and landings of a stair climb: ``(on_flight, heading_rate)``.

    ``on_flight`` is 1 while stepping on stairs and 0 on a landing (level steps), with
    0.4 s min-jerk ramps between; ``heading_rate`` (rad/s) turns the walker on each landing
    by 180°, 90° or not at all (:data:`_LANDING_TURN_P`), always to the same side within a
    stairwell. Real stair recordings carry these turns: UCI HAPT's waist phones read
    0.3-0.45 rad/s RMS about the vertical below 0.6 Hz on stairs, five times level walking.
    """
    t = np.arange(n) / fs
    flight = np.ones(n)
    rate = np.zeros(n)
    side = 1.0 if rng.random() < 0.5 else -1.0
    turns, p = zip(*_LANDING_TURN_P.items(), strict=True)
    # start anywhere in a flight
    t0 = -rng.uniform(0.0, 1.0) * _FLIGHT_STEPS[1] / f_step
    while t0 < t[-1]:
        t_land = t0 + rng.integers(*_FLIGHT_STEPS) / f_step
        dur = rng.uniform(*_LANDING_S)
        ramp = 0.4
        s_in = min_jerk((t - t_land) / ramp)
        s_out = min_jerk((t - (t_land + dur - ramp)) / ramp)
        flight -= s_in - s_out
        angle = side * float(rng.choice(turns, p=p))
        if angle:
            u = np.clip((t - t_land) / dur, 0.0, 1.0)
            bump = np.where((u > 0) & (u < 1), np.sin(np.pi * u) ** 2, 0.0)
            rate += angle * bump / (0.5 * dur)  # integral of sin^2 over the landing: dur / 2
        t0 = t_land + dur
    return np.clip(flight, 0.0, 1.0), rate


def gait(
    rng: np.random.Generator, g: Gait, subject: SubjectParams, n: int, fs: float, intensity: float
) -> tuple[dict[str, FloatArray], dict[str, FloatArray], float, float]:
    """Joint-angle deltas (radians), root rates and root height offset of a gait.

    Returns:
        ``(channels, impacts, step_hz, mean_speed)``: ``channels`` maps pose channel names to
        ``(n,)`` arrays to add to the base posture; ``root_z`` there is an offset (m) on top
        of the support height (it carries running's flight phases). ``impacts`` are the
        foot-contact transients (:func:`foot_impacts`), to add after smoothing.
    """
    lo, hi = g.speed
    v = lo + (hi - lo) * float(np.clip(0.6 * intensity + 0.4 * rng.random(), 0.0, 1.0))
    if g.kind.startswith("stairs"):
        # Ascent is slower than descent: about 85-105 steps/min up, 95-115 down.
        base = 1.35 if g.kind == "stairs_up" else 1.55
        f_step = step_frequency(g.kind, base + 0.4 * (v - lo) / max(hi - lo, 1e-6), subject)
        tread = rng.uniform(0.25, 0.32)
        rise = rng.uniform(0.15, 0.19)
        v = tread * f_step
    else:
        f_step = step_frequency(g.kind, v, subject)
    env = bouts(rng, n, fs, g.bout_s, g.pause_s, ramp_s=1.0) if g.duty < 1.0 else np.ones(n)
    # Stride phase advances only while moving; the legs come to rest in between.
    wander = 1.0 + 0.025 * band_noise(rng, n, fs, 0.01, 0.2)[:, 0]
    stride = np.cumsum(0.5 * f_step * wander * (0.15 + 0.85 * env)) / fs + rng.random()
    ph_l, ph_r = stride, stride + 0.5
    leg = subject.thigh_m + subject.shank_m
    out: dict[str, FloatArray] = {}
    amp = subject.amplitude**0.5

    if g.kind == "walk":
        step_len = v / f_step
        a_hip = np.degrees(np.arcsin(np.clip(step_len / (2 * leg), 0, 0.9))) * 0.9 * amp
        h0, k_st, k_sw, base_k = 0.3 * a_hip, 12.0 + 4 * v, 45.0 + 12 * v, 4.0
        a_arm = float(np.clip((4.0 + 13.0 * (v - 0.4)) * subject.arm_swing, 2.0, 40.0))
        e0, a_el = 0.0, 0.45 * a_arm
        lean = 2.0
        # Centre of mass: highest at mid-stance, lowest at double support, one bounce per
        # step of about the compass-gait drop L (1 - cos θ) (2-5 cm; knee flexion at loading
        # and heel rise smooth it into a near-sinusoid in people).
        a_v = 0.65 * leg * (1.0 - np.cos(np.radians(a_hip))) + 0.004
        z_off = a_v * 0.5 * (np.cos(4 * np.pi * (stride - 0.3)) - 1.0) * env
    elif g.kind == "run":
        a_hip = (24.0 + 3.5 * (v - 2.5)) * amp
        h0, k_st, k_sw, base_k = 12.0, 30.0, 70.0 + 10 * (v - 2.5), 14.0
        a_arm = float(np.clip((22.0 + 6.0 * (v - 2.5)) * subject.arm_swing**0.5, 12.0, 50.0))
        e0, a_el = 70.0 + rng.uniform(-10, 15), 12.0
        lean = 6.0 + 1.5 * v
        flight = float(np.clip(0.25 + 0.06 * (v - 2.5) + rng.normal(0, 0.04), 0.15, 0.5))
        z_off = hop_profile(2.0 * stride, flight, 1.0 / f_step) * env - 0.03 * env
    else:  # stairs
        up = g.kind == "stairs_up"
        a_hip = (22.0 if up else 16.0) * amp
        h0 = 30.0 if up else 18.0
        k_st, k_sw, base_k = (40.0, 70.0, 15.0) if up else (45.0, 55.0, 10.0)
        a_arm = float(np.clip(7.0 * subject.arm_swing, 2.0, 15.0))
        e0, a_el = 5.0, 3.0
        lean = 10.0 if up else 3.0
        # The body rises (or drops) one riser per step, not at a constant rate: the vertical
        # velocity peaks in single support (the stance leg pushing up, or lowering the body
        # eccentrically) and falls at foot contact, when the leading leg takes the weight
        # with a ground reaction above body weight. So the pelvis sees one vertical
        # acceleration cycle per step with a sharp upward peak at contact and a broad,
        # shallow trough between (positively skewed): a(θ) = A (cos θ + c cos 2θ) with θ
        # the step phase. UCI HAPT's waist phones read a vertical skew of about +0.7 up and
        # +0.8 down, |a| std of 0.27 g up and 0.39 g down (0.24 g on the level), and the
        # step frequency, not its harmonic, dominates both. The deviation integrates to zero
        # over a step, so the climb stays one riser.
        u = 2.0 * stride
        a_g = rng.uniform(0.26, 0.46) if up else rng.uniform(0.38, 0.62)
        c2 = rng.uniform(0.2, 0.45) if up else rng.uniform(0.3, 0.6)
        w_step = 2 * np.pi * f_step
        on_flight, turning = stair_landings(rng, n, fs, f_step)
        dev = np.cos(2 * np.pi * u) + c2 / 4.0 * np.cos(4 * np.pi * u)
        z_off = -a_g * GRAVITY / w_step**2 * dev * on_flight * env
        out["climb_rate"] = (rise if up else -rise) * f_step * env * on_flight
        out["heading_rate"] = turning * env

    for side, ph in (("l", ph_l), ("r", ph_r)):
        out[f"{side}_hip_flex"] = (h0 + a_hip * np.cos(2 * np.pi * ph)) * env * _D
        if g.kind == "stairs_down":
            knee = base_k + k_st * vm_bump(ph, 0.40, 4.0) + k_sw * vm_bump(ph, 0.75, 8.0)
        elif g.kind == "stairs_up":
            knee = base_k + k_st * vm_bump(ph, 0.03, 5.0) + k_sw * vm_bump(ph, 0.68, 7.0)
        else:
            knee = base_k + k_st * vm_bump(ph, 0.13, 14.0) + k_sw * vm_bump(ph, 0.72, 9.0)
        out[f"{side}_knee"] = knee * env * _D
    if g.arms:
        # Slow walkers swing at step frequency (2:1), faster ones at stride frequency.
        w2 = float(np.clip((0.9 - v) / 0.5, 0.0, 0.8)) if g.kind == "walk" else 0.0
        for side, ph in (("l", ph_r), ("r", ph_l)):  # each arm swings with the opposite leg
            swing = (1 - w2) * np.cos(2 * np.pi * ph) + w2 * 0.6 * np.cos(4 * np.pi * ph)
            out[f"{side}_sh_flex"] = a_arm * swing * env * _D
            out[f"{side}_elbow"] = (e0 + a_el * swing) * env * _D
    a_py = 4.0 + 2.5 * min(v, 3.0)
    out["pelvis_yaw"] = -a_py * np.cos(2 * np.pi * ph_l) * env * _D
    out["spine_twist"] = 1.3 * a_py * np.cos(2 * np.pi * ph_l) * env * _D
    # Pelvic obliquity drops the swing side once per stride (not per step): a phone on one
    # hip reads its own stance and the other leg's differently.
    out["pelvis_roll"] = rng.uniform(3.0, 6.0) * np.sin(2 * np.pi * ph_l) * env * _D
    # Climbing, the trunk pitches forward into each step up (about twice level walking's nod).
    nod = 3.0 if g.kind == "stairs_up" else 1.5
    out["pelvis_pitch"] = (lean + nod * np.cos(4 * np.pi * ph_l)) * env * _D
    lat_sway = {"walk": 0.035, "run": 0.01}.get(g.kind, 0.03)  # m, the body over each foot
    out["lat_speed"] = lat_sway * np.pi * f_step * np.cos(2 * np.pi * ph_l) * env
    # Each heel strike brakes the body and each push-off speeds it up again: the pelvis
    # reads about ±2-3 m/s² fore-aft per step walking (Moe-Nilssen 1998, lower trunk).
    # On stairs too, although the body moves forward slowly there.
    surge = (0.05 * v if g.kind == "run"
             else rng.uniform(1.5, 2.8) / (2 * np.pi * f_step))  # m/s of speed swing
    out["fwd_speed"] = env * (v + surge * np.cos(4 * np.pi * ph_l))
    # Left and right steps differ (leg dominance, the phone on one hip): the step bounce is
    # modulated once per stride.
    out["root_z"] = z_off * (1.0 + rng.uniform(0.05, 0.25) * np.cos(2 * np.pi * ph_l))
    mean_speed = float(np.mean(out["fwd_speed"]))
    # A foot lands when its leg's stride phase passes a whole cycle (hip most flexed).
    contacts = [np.flatnonzero(np.diff(np.floor(ph)) > 0) + 1 for ph in (ph_l, ph_r)]
    impacts = foot_impacts(rng, g.kind, contacts, env, v, fs)
    return out, impacts, f_step, mean_speed
