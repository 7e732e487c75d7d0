"""Activity recipes: postures, locomotion, household, self-care, eating and office work.

Angles in degrees (see :mod:`aura_training.synth._skeleton` for their conventions). METs are
typical values from the Compendium of Physical Activities (Ainsworth et al., Med Sci Sports
Exerc 43:1575, 2011), rounded.
"""

from __future__ import annotations

from aura_training.synth._schema import ActivityInfo
from aura_training.synth._spec import Activity, Event, Gait, Key, Osc

I = ActivityInfo  # noqa: E741 - short alias keeps the table readable

# fmt: off

# Small gestures people make while "just" standing or sitting.
_GESTURES = (
    Event((Key((0.7, 1.3), {"x_sh_flex": 40, "x_sh_abd": 25, "x_elbow": 125, "x_pron": 30}),
           Key((0.5, 2.5), {"x_elbow": 130}), Key((0.7, 1.3))), gap=(6, 25)),
    Event((Key((0.7, 1.3), {"x_sh_flex": 30, "x_elbow": 100, "x_pron": 85}),
           Key((1.0, 3.0), {"x_elbow": 105}), Key((0.7, 1.3))), gap=(8, 30)),
    Event((Key((0.6, 1.0), {"b_sh_flex": 25, "b_elbow": 110, "b_sh_rot": 70, "b_pron": 20}),
           Key((2.0, 8.0), {"b_elbow": 112}), Key((0.6, 1.0))), gap=(10, 40), weight=0.5),
)
# Sitting rotates the pelvis backwards from its standing tilt (radiographic studies of
# standing vs sitting put the change at roughly 10-25 degrees; more when slouched).
_SEATED = {"b_hip_flex": (82, 98), "b_knee": (75, 105), "pelvis_pitch": (-26, -10),
           "spine_flex": (0, 18), "b_sh_flex": (10, 30), "b_elbow": (50, 80),
           "b_pron": (50, 85), "b_sh_abd": (8, 18)}



def _bite(side: str) -> Event:
    """Food to the mouth by the hand ``side`` (``"d"`` / ``"n"``) and back, every 3-15 s."""
    return Event((Key((0.6, 1.1), {f"{side}_sh_flex": 40, f"{side}_sh_abd": 25,
                                   f"{side}_elbow": 135, f"{side}_pron": 20, "neck_flex": 10}),
                  Key((0.2, 0.8), {f"{side}_elbow": 138}), Key((0.6, 1.0))), gap=(3, 15))


def _sip(side: str, weight: float) -> Event:
    """Reach for a cup, lift it to the lips, tilt the head back, put it down (``side``:
    ``"d"``, ``"n"`` or ``"b"`` for both hands)."""
    return Event((Key((0.7, 1.2), {f"{side}_sh_flex": 35, f"{side}_elbow": 50,
                                   f"{side}_pron": 0}),
                  Key((0.3, 0.6), {f"{side}_elbow": 55}),
                  Key((0.7, 1.1), {f"{side}_sh_flex": 40, f"{side}_sh_abd": 20,
                                   f"{side}_elbow": 130, f"{side}_pron": -10}),
                  Key((1.5, 4.0), {f"{side}_sh_flex": 55, f"{side}_sh_abd": 30,
                                   "neck_flex": -15}),
                  Key((0.8, 1.2), {f"{side}_sh_flex": 35, f"{side}_elbow": 50,
                                   "neck_flex": 0}),
                  Key((0.6, 1.0))), gap=(3, 12), weight=weight)


DAILY: tuple[Activity, ...] = (
    # -- postures -----------------------------------------------------------------------------
    Activity(I("standing", "posture", "static", "sedentary", 1.3, "standing", "none",
               ("home", "office", "street", "kitchen", "queue"), ("standing still", "standing up")),
             events=_GESTURES, fidget=3.0,
             # People stand with the pelvis tilted anywhere from about 0 to 20 degrees
             # forward, and some rest their weight on one leg (the pelvis drops on the other).
             variants={"relaxed": {"pelvis_pitch": (-3, 8)},
                       "weight on one leg": {"pelvis_roll": (-7, 7), "pelvis_pitch": (-3, 6)}}),
    Activity(I("sitting", "posture", "static", "sedentary", 1.3, "sitting", "none",
               ("home", "office", "waiting room", "classroom"), ("sitting still", "seated")),
             base=_SEATED, support="seat", events=_GESTURES, fidget=2.5, tremor=0.6,
             variants={"upright": {"spine_flex": (-3, 5)}, "slouched": {"pelvis_pitch": (-34, -18),
                       "spine_flex": (15, 30)}, "on a chair": {}}),
    Activity(I("lying down", "posture", "static", "sedentary", 1.0, "lying", "none",
               ("bedroom", "sofa", "park"), ("lying", "resting in bed", "reclining")),
             support="floor", fidget=1.5, tremor=0.3, turn=0.0,
             events=(Event((Key((1.0, 2.0), {"x_sh_flex": 60, "x_elbow": 90}),
                            Key((1.0, 5.0), {"x_elbow": 95}), Key((1.0, 2.0))), gap=(20, 60)),),
             variants={
                 # from flat to propped up on pillows or a sofa's arm
                 "on the back": {"pelvis_pitch": (-92, -72), "b_sh_flex": (0, 25),
                                 "b_pron": (0, 90), "b_hip_flex": (0, 15), "b_knee": (0, 20)},
                 "on the stomach": {"pelvis_pitch": (72, 92), "b_sh_abd": (60, 110),
                                    "b_elbow": (60, 110), "b_sh_rot": (-60, -20),
                                        "neck_twist": (-60, 60)},
                 # from square on the side to half rolled toward the back or the front
                 "on the left side": {"pelvis_roll": (-95, -78), "pelvis_pitch": (-25, 15),
                                      "b_hip_flex": (25, 60),
                                      "b_knee": (30, 80), "b_sh_flex": (40, 90),
                                      "b_elbow": (40, 100)},
                 "on the right side": {"pelvis_roll": (78, 95), "pelvis_pitch": (-25, 15),
                                       "b_hip_flex": (25, 60),
                                       "b_knee": (30, 80), "b_sh_flex": (40, 90),
                                      "b_elbow": (40, 100)},
             }),
    # -- locomotion ---------------------------------------------------------------------------
    Activity(I("walking slowly", "locomotion", "periodic", "light", 2.8, "standing", "none",
               ("street", "park", "mall", "corridor"), ("strolling", "ambling", "slow walk")),
             gait=Gait("walk", (0.45, 0.95)), turn=0.08),
    Activity(I("walking", "locomotion", "periodic", "moderate", 3.5, "standing", "none",
               ("street", "park", "corridor", "treadmill", "campus"), ("walk",
                                                                       "walking at a normal pace")),
             gait=Gait("walk", (0.95, 1.5)), turn=0.08),
    Activity(I("walking fast", "locomotion", "periodic", "moderate", 5.0, "standing", "none",
               ("street", "park", "treadmill"), ("brisk walking", "power walking",
                                                 "speed walking")),
             gait=Gait("walk", (1.5, 2.1)), turn=0.06),
    Activity(I("jogging", "locomotion", "periodic", "vigorous", 7.0, "standing", "none",
               ("park", "track", "treadmill", "street"), ("running slowly", "easy run")),
             gait=Gait("run", (1.9, 2.8)), support="free", turn=0.06),
    Activity(I("running", "locomotion", "periodic", "vigorous", 9.8, "standing", "none",
               ("track", "park", "treadmill", "road"), ("run", "fast running", "sprinting")),
             gait=Gait("run", (2.8, 5.2)), support="free", turn=0.05),
    Activity(I("walking upstairs", "locomotion", "periodic", "vigorous", 8.0, "standing", "none",
               ("staircase", "stairwell"), ("climbing stairs", "going up the stairs",
                                            "ascending stairs")),
             gait=Gait("stairs_up", (0.0, 1.0)), turn=0.02),
    Activity(I("walking downstairs", "locomotion", "periodic", "moderate", 3.5, "standing", "none",
               ("staircase", "stairwell"), ("going down the stairs", "descending stairs")),
             gait=Gait("stairs_down", (0.0, 1.0)), turn=0.02),
    Activity(I("carrying a box", "locomotion", "periodic", "moderate", 4.5, "standing", "both",
               ("home", "warehouse", "office"), ("carrying a load", "moving boxes")),
             gait=Gait("walk", (0.7, 1.4), arms=False), turn=0.08,
             base={"b_sh_flex": (15, 35), "b_elbow": (75, 100), "b_pron": (-10, 15),
                   "b_sh_abd": (10, 22), "spine_flex": (-6, 2)}, fidget=1.0),
    Activity(I("pushing a cart", "locomotion", "periodic", "light", 3.0, "standing", "both",
               ("supermarket", "street", "park"), ("pushing a stroller", "pushing a trolley")),
             gait=Gait("walk", (0.6, 1.4), arms=False), turn=0.06,
             base={"b_sh_flex": (30, 50), "b_elbow": (25, 50), "b_pron": (70, 90),
                   "spine_flex": (5, 15)}, fidget=1.0),
    # -- household ----------------------------------------------------------------------------
    Activity(I("vacuuming", "household", "periodic", "moderate", 3.3, "standing", "dominant",
               ("living room", "bedroom", "office"), ("hoovering", "vacuum cleaning")),
             gait=Gait("walk", (0.4, 0.9), duty=0.45, bout_s=(1.5, 5), pause_s=(2, 8)),
             base={"d_sh_flex": (20, 40), "d_elbow": (30, 55), "d_pron": (40, 80),
                   "spine_flex": (10, 25)}, freq=(0.5, 1.0),
             osc=(Osc("d_sh_flex", 18), Osc("d_elbow", 22, phase=0.5), Osc("spine_flex", 6),
                  Osc("fwd_speed", 0.15, phase=0.25))),
    Activity(I("sweeping the floor", "household", "periodic", "moderate", 3.3, "standing", "both",
               ("kitchen", "porch", "garage"), ("sweeping", "using a broom")),
             gait=Gait("walk", (0.3, 0.7), duty=0.35, bout_s=(1, 3), pause_s=(3, 8), arms=False),
             base={"d_sh_flex": (15, 35), "d_elbow": (50, 75), "n_sh_flex": (35, 55),
                   "n_elbow": (60, 85), "b_pron": (30, 70), "spine_flex": (15, 30)},
             freq=(0.6, 1.2), osc=(Osc("s_spine_twist", 12), Osc("d_sh_abd", 10),
                                   Osc("n_sh_abd", 10, phase=0.5), Osc("d_sh_flex", 6,
                                                                       phase=0.25))),
    Activity(I("wiping a table", "household", "periodic", "light", 3.0, "standing", "dominant",
               ("kitchen", "dining room", "cafe"), ("cleaning a table", "wiping surfaces")),
             base={"spine_flex": (20, 40), "d_sh_flex": (40, 60), "d_elbow": (40, 65),
                   "d_pron": (75, 95), "n_sh_flex": (20, 40), "n_elbow": (30, 60)},
             freq=(0.8, 1.6), osc_bouts=((3, 10), (1, 4)),
             osc=(Osc("d_sh_flex", 12), Osc("d_sh_abd", 12, phase=0.25), Osc("d_elbow", 12)),
             gait=Gait("walk", (0.3, 0.7), duty=0.15, bout_s=(1, 3), pause_s=(5, 15))),
    Activity(I("ironing", "household", "periodic", "light", 1.8, "standing", "dominant",
               ("laundry room", "home"), ("ironing clothes", "pressing a shirt")),
             base={"d_sh_flex": (20, 40), "d_elbow": (60, 90), "d_pron": (75, 95),
                   "n_sh_flex": (20, 35), "n_elbow": (70, 95), "spine_flex": (8, 18)},
             freq=(0.4, 0.9), osc_bouts=((3, 12), (1, 5)),
             osc=(Osc("d_sh_flex", 14), Osc("d_elbow", 20, phase=0.5), Osc("d_sh_abd", 5,
                                                                           phase=0.25)),
             events=(Event((Key((0.6, 1.0), {"b_sh_flex": 45, "b_elbow": 60}), Key((0.5, 1.5),
                     {"b_sh_flex": 40}), Key((0.6, 1.0))), gap=(8, 25)),)),
    Activity(I("washing dishes", "household", "periodic", "light", 1.8, "standing", "both",
               ("kitchen",), ("doing the dishes", "scrubbing plates")),
             base={"b_sh_flex": (20, 40), "b_elbow": (75, 100), "b_pron": (20, 60),
                   "spine_flex": (8, 20)}, freq=(0.8, 2.0), osc_bouts=((2, 8), (1, 4)),
             osc=(Osc("d_pron", 25), Osc("d_sh_abd", 8, phase=0.25), Osc("n_pron", 10, phase=0.3)),
             events=(Event((Key((0.5, 0.9), {"d_sh_abd": 40, "d_sh_flex": 45, "d_elbow": 45}),
                            Key((0.2, 0.6)), ), gap=(4, 15)),)),
    Activity(I("washing hands", "self-care", "periodic", "light", 2.0, "standing", "both",
               ("bathroom", "kitchen", "hospital"), ("hand washing", "scrubbing hands")),
             base={"b_sh_flex": (15, 35), "b_elbow": (70, 95), "b_pron": (0, 25),
                   "b_sh_abd": (-8, 2), "spine_flex": (5, 15)}, freq=(1.5, 3.0),
             osc=(Osc("a_pron", 25), Osc("b_sh_abd", 5, phase=0.25), Osc("a_elbow", 6))),
    Activity(I("brushing teeth", "self-care", "periodic", "light", 2.0, "standing", "dominant",
               ("bathroom",), ("toothbrushing", "cleaning teeth")),
             base={"d_sh_flex": (30, 50), "d_sh_abd": (25, 45), "d_elbow": (115, 135),
                   "d_pron": (0, 40), "spine_flex": (3, 12)},
             freq=(2.5, 4.5), osc_bouts=((5, 15), (0.5, 2.0)),
             osc=(Osc("d_sh_rot", 4), Osc("d_sh_abd", 2, phase=0.25), Osc("d_elbow", 2)),
             events=(Event((Key((0.4, 0.8), {"d_pron": -30, "d_sh_abd": 15}), Key((3, 10),
                     {"d_pron": -25}), Key((0.4, 0.8))), gap=(8, 20)),
                     Event((Key((0.8, 1.2), {"spine_flex": 45}), Key((1, 3)),), gap=(20, 45),
                           weight=0.4)), fidget=1.5,
             # The free hand: hanging, braced on the basin's edge, or holding the rinsing cup.
             variants={"free hand at the side": {},
                       "hand on the basin": {"n_sh_flex": (20, 45), "n_sh_abd": (5, 15),
                                             "n_elbow": (5, 30), "n_pron": (70, 95),
                                             "spine_flex": (12, 25)},
                       "holding a cup": {"n_sh_flex": (10, 25), "n_elbow": (75, 100),
                                         "n_pron": (-10, 20)}}),
    Activity(I("combing hair", "self-care", "periodic", "light", 2.0, "standing", "dominant",
               ("bathroom", "bedroom"), ("brushing hair",)),
             base={"d_sh_flex": (75, 110), "d_sh_abd": (40, 70), "d_elbow": (100, 130),
                   "d_pron": (10, 50)}, freq=(0.6, 1.4),
             osc=(Osc("d_sh_flex", 15), Osc("d_elbow", 15, phase=0.5), Osc("d_sh_rot", 10,
                                                                           phase=0.2))),
    Activity(I("cooking", "household", "sporadic", "light", 2.5, "standing", "dominant",
               ("kitchen",), ("preparing food", "making dinner", "chopping vegetables"), "Cooking"),
             base={"b_sh_flex": (15, 35), "b_elbow": (70, 95), "d_pron": (55, 85),
                   "n_pron": (30, 70), "spine_flex": (5, 18)},
             freq=(2.5, 5.0), osc_bouts=((2, 10), (3, 15)),
             osc=(Osc("d_elbow", 7), Osc("d_sh_flex", 3), Osc("d_pron", 4, phase=0.3)),
             events=(Event((Key((0.4, 0.7), {"d_sh_flex": 35, "d_elbow": 95, "d_sh_abd": 20}),
                            Key((0.3, 0.6), {"d_sh_abd": 5, "d_sh_rot": 20}),
                            Key((0.3, 0.6), {"d_sh_abd": 20, "d_sh_rot": -10}),
                            Key((0.3, 0.6), {"d_sh_abd": 5, "d_sh_rot": 20}), Key((0.4, 0.7))),
                           gap=(4, 15)),
                     Event((Key((0.7, 1.2), {"d_sh_flex": 100, "d_elbow": 30, "d_pron": 0}),
                            Key((0.3, 0.8)), ), gap=(10, 40), weight=0.5),
                     Event((Key((0.6, 1.0), {"b_sh_flex": 35, "b_elbow": 70, "b_pron": 0}),
                            Key((1.0, 3.0), {"b_sh_flex": 30}), Key((0.6, 1.0))), gap=(10, 30),
                           weight=0.5)),
             gait=Gait("walk", (0.4, 0.9), duty=0.15, bout_s=(1, 4), pause_s=(8, 30))),
    # -- eating, office -----------------------------------------------------------------------
    Activity(I("eating", "eating", "sporadic", "sedentary", 1.5, "sitting", "dominant",
               ("dining room", "restaurant", "cafeteria", "kitchen"), ("having a meal", "dining")),
             base={**_SEATED, "b_sh_flex": (15, 30), "b_elbow": (75, 95), "b_pron": (45, 75),
                   "spine_flex": (10, 22)}, support="seat", tremor=0.8,
             freq=(1.5, 3.0), osc_bouts=((1.5, 5), (5, 20)),
             osc=(Osc("d_elbow", 4), Osc("d_sh_flex", 3), Osc("n_elbow", 3, phase=0.5)),
             events=(_bite("d"),),
             # How a meal reaches the mouth differs by custom, and with it what the hand
             # without the main utensil does: the continental style keeps the fork in the
             # non-dominant hand and eats from it; the cut-and-switch style eats with the
             # dominant hand only; a bowl and chopsticks or a spoon has the other hand hold
             # (and now and then lift) the bowl; finger food is brought up with both hands.
             variants={"fork and knife": {}, "fork": {},
                       "chopsticks": {"n_sh_flex": (15, 35), "n_elbow": (95, 125),
                                      "n_pron": (-40, 0)},
                       "hands": {"b_elbow": (85, 110), "b_pron": (10, 45)}},
             variant_events={
                 "fork and knife": (_bite("n"),),
                 "chopsticks": (_bite("d"), Event((
                     Key((0.6, 1.0), {"n_sh_flex": 30, "n_elbow": 130, "neck_flex": 15}),
                     Key((1.0, 2.5), {"n_elbow": 128}), Key((0.6, 1.0))), gap=(8, 25),
                     weight=0.3)),
                 "hands": (Event((Key((0.6, 1.1), {"b_sh_flex": 35, "b_sh_abd": 12,
                                                    "b_elbow": 130, "b_pron": 10,
                                                    "neck_flex": 10}),
                                  Key((0.3, 1.0), {"b_elbow": 132}), Key((0.6, 1.0))),
                                 gap=(4, 15)),)}),
    Activity(I("drinking", "eating", "sporadic", "sedentary", 1.3, "sitting", "dominant",
               ("cafe", "home", "office", "bar"), ("having a drink", "sipping coffee",
                                                   "drinking water")),
             base=_SEATED, support="seat", tremor=0.8,
             # A cup is picked up by whichever hand is free, not always the dominant one.
             events=(_sip("d", 0.65), _sip("n", 0.35)),
             variants={"glass": {}, "cup": {},
                       # a mug held in both hands in front of the chest between sips
                       "mug in both hands": {"b_sh_flex": (15, 30), "b_sh_abd": (5, 15),
                                             "b_elbow": (95, 120), "b_pron": (-10, 30)}},
             variant_events={"mug in both hands": (_sip("b", 1.0),)}),
    Activity(I("typing", "office", "static", "sedentary", 1.3, "sitting", "both",
               ("office", "home", "library"), ("typing on a keyboard", "working at a computer")),
             base={**_SEATED, "b_sh_flex": (10, 30), "b_elbow": (80, 105), "b_pron": (75, 95),
                   "b_sh_abd": (8, 22), "neck_flex": (5, 20)}, support="seat",
             micro=0.25, tremor=0.5, fidget=1.5,
             events=(Event((Key((0.4, 0.8), {"d_sh_abd": 25, "d_sh_flex": 25, "d_elbow": 90}),
                            Key((2.0, 10.0), {"d_sh_abd": 24}), Key((0.4, 0.8))), gap=(5, 25)),)),
    Activity(I("writing", "office", "periodic", "sedentary", 1.3, "sitting", "dominant",
               ("office", "classroom", "library", "home"), ("handwriting", "writing with a pen",
                                                            "taking notes")),
             base={**_SEATED, "d_sh_flex": (15, 35), "d_sh_abd": (12, 28), "d_elbow": (85, 105),
                   "d_pron": (55, 80), "n_sh_flex": (15, 30), "n_elbow": (80, 100),
                   "n_pron": (75, 95), "neck_flex": (15, 30)}, support="seat",
             freq=(3.0, 6.0), osc_bouts=((1, 4), (0.2, 1.0)), micro=0.15, tremor=0.6, fidget=1.0,
             osc=(Osc("d_pron", 1.5), Osc("d_elbow", 1.0, phase=0.25), Osc("d_sh_rot", 1.0)),
             wander={"d_sh_rot": 5.0},
             events=(Event((Key((0.3, 0.6), {"d_sh_abd": 10, "d_elbow": 100}), Key((0.3, 0.6))),
                           gap=(5, 15)),)),
    Activity(I("using a smartphone", "office", "static", "sedentary", 1.5, "sitting", "both",
               ("home", "bus", "cafe", "office"), ("texting", "scrolling on a phone",
                                                   "browsing on a phone")),
             # The phone lies in the palm with its screen toward the face: the forearm turns
             # palm-up (supinated, the opposite of typing's palm-down) and rises toward the eyes.
             base={**_SEATED, "b_sh_flex": (5, 30), "b_elbow": (100, 130), "b_pron": (-70, -5),
                   "b_sh_abd": (0, 12), "neck_flex": (20, 40)}, support="seat",
             micro=0.25, tremor=0.8, fidget=1.5),
    Activity(I("waving", "gesture", "periodic", "light", 1.8, "standing", "dominant",
               ("street", "station", "park"), ("waving hello", "waving goodbye", "greeting")),
             base={"d_sh_flex": (15, 45), "d_sh_abd": (60, 100), "d_elbow": (70, 110),
                   "d_pron": (-20, 10), "d_sh_rot": (-90, -60)}, freq=(1.5, 3.0),
             osc=(Osc("d_elbow", 18), Osc("d_sh_rot", 8, phase=0.25))),
    Activity(I("clapping", "gesture", "periodic", "light", 2.0, "standing", "both",
               ("concert", "theatre", "stadium", "classroom"), ("applauding", "clapping hands")),
             base={"b_sh_flex": (35, 60), "b_elbow": (70, 100), "b_pron": (-10, 15),
                   "b_sh_abd": (10, 22)}, freq=(1.5, 4.0),
             osc=(Osc("b_sh_abd", 12), Osc("b_sh_abd", 4, harmonic=2), Osc("b_sh_rot", 8))),
    Activity(I("hammering", "work", "periodic", "moderate", 3.0, "standing", "dominant",
               ("workshop", "garage", "construction site"), ("hammering nails", "using a hammer")),
             base={"d_sh_flex": (30, 50), "d_sh_abd": (10, 25), "d_elbow": (80, 100),
                   "d_pron": (25, 55), "n_sh_flex": (30, 50), "n_elbow": (70, 90),
                   "spine_flex": (10, 25)}, freq=(1.0, 2.0), osc_bouts=((2, 8), (2, 6)),
             osc=(Osc("d_elbow", 25), Osc("d_sh_flex", 10), Osc("d_elbow", 4, harmonic=2))),
    Activity(I("driving a car", "transport", "sporadic", "sedentary", 2.0, "sitting", "both",
               ("car", "road", "highway"), ("driving", "steering a car")),
             base={"b_hip_flex": (85, 100), "b_knee": (45, 75), "pelvis_pitch": (-20, -8),
                   "b_sh_flex": (35, 55), "b_elbow": (55, 85), "b_pron": (25, 55),
                   "b_sh_abd": (10, 25), "fwd_speed": (5.0, 22.0)}, support="seat",
             turn=0.05, wander={"fwd_speed": 3.0}, vibration=0.3, tremor=0.5, fidget=1.5,
             events=(Event((Key((0.6, 1.5), {"x_sh_flex": 55, "x_sh_abd": 35, "o_sh_flex": 35,
                                             "heading_rate": (-0.2, 0.2)}),
                            Key((1.0, 4.0), {"x_sh_flex": 52}), Key((0.6, 1.5))), gap=(4, 20)),)),
)
# fmt: on
