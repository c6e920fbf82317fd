"""Energy and valence of a phrase, computed from its tokens alone (Lofi Loom's definitions).

A phrase is a mode index (vocab.MODES) and a list of bars, each `[chord, m1, ..., m8]` in
Lofi Loom tokens. Both descriptors are a weighted sum of musical features on natural
scales (the *raw* score), mapped to 0-1 by the training set's quantile table
(`quantile_map`). The Rust implementation must reproduce `features`, `raw_energy`,
`raw_valence` and `quantile_map` exactly; `models/fixtures/descriptors.json` pins them.

Energy (how busy and driving): melodic onsets per beat, off-beat (syncopated) onsets per
beat, chord changes per bar boundary, and melodic range.
Valence (how bright): mode brightness, share of major-third chords, melodic height and
contour (rising lines sound brighter; the mean signed interval between successive
notes in minor thirds, clipped to -1..1).
"""

from . import vocab as V

BEATS_PER_BAR = 4

# Mode brightness on 0-1 by the number of raised degrees: Lydian > Ionian > Mixolydian >
# Dorian > Aeolian > Phrygian > Locrian.
MODE_BRIGHTNESS = {3: 6, 0: 5, 4: 4, 1: 3, 5: 2, 2: 1, 6: 0}

ENERGY_WEIGHTS = {"onsets_per_beat": 1.0, "offbeat_onsets_per_beat": 0.5,
                  "chord_changes_per_bar": 0.3, "range_octaves": 0.25}
VALENCE_WEIGHTS = {"mode_brightness": 1.0, "major_chord_share": 1.0,
                   "mean_height_octaves": 0.25, "contour": 0.5}


def _notes(bars):
    """(step index in phrase, pitch) of every melody onset."""
    out = []
    for b, bar in enumerate(bars):
        for k, t in enumerate(bar[1:]):
            p = V.step_pitch(int(t))
            if p is not None:
                out.append((b * V.STEPS_PER_BAR + k, p))
    return out


def features(bars, mode: int) -> dict:
    """The musical features both descriptors are built from."""
    n_bars = len(bars)
    beats = n_bars * BEATS_PER_BAR
    notes = _notes(bars)
    pitches = [p for _, p in notes]
    offbeat = sum(1 for step, _ in notes if step % 2 == 1)
    chords = [int(bar[0]) for bar in bars]
    changes = sum(1 for a, b in zip(chords, chords[1:]) if a != b)
    chorded = [c for c in chords if c != V.NO_CHORD]
    major = 0.0
    for c in chorded:
        q = V.chord_from_token(c)[2]
        major += 1.0 if q in V.MAJOR_THIRD_QUALITIES else 0.5 if q == 7 else 0.0
    intervals = [b - a for a, b in zip(pitches, pitches[1:])]
    return {
        "onsets_per_beat": len(notes) / beats,
        "offbeat_onsets_per_beat": offbeat / beats,
        "chord_changes_per_bar": changes / (n_bars - 1) if n_bars > 1 else 0.0,
        "range_octaves": (max(pitches) - min(pitches)) / 12 if pitches else 0.0,
        "mode_brightness": MODE_BRIGHTNESS[mode] / 6,
        "major_chord_share": major / len(chorded) if chorded else 0.5,
        "mean_height_octaves": sum(pitches) / len(pitches) / 12 if pitches else 0.0,
        "contour": (max(-1.0, min(1.0, sum(intervals) / len(intervals) / 3))
                            if intervals else 0.0),
    }


def raw_energy(f: dict) -> float:
    """Weighted sum of the energy features."""
    return sum(w * f[k] for k, w in ENERGY_WEIGHTS.items())


def raw_valence(f: dict) -> float:
    """Weighted sum of the valence features."""
    return sum(w * f[k] for k, w in VALENCE_WEIGHTS.items())


def quantile_map(x: float, table: list) -> float:
    """Maps a raw score to 0-1 by a sorted quantile table of K entries (q_0 ... q_{K-1}).

    Below q_0 -> 0, at or above q_{K-1} -> 1; otherwise lo is the LAST index with
    q_lo <= x, hi = lo + 1 and the result is (lo + (x - q_lo) / (q_hi - q_lo)) / (K - 1).
    """
    k = len(table)
    if x < table[0]:
        return 0.0
    if x >= table[-1]:
        return 1.0
    lo = max(i for i in range(k) if table[i] <= x)
    hi = lo + 1
    return (lo + (x - table[lo]) / (table[hi] - table[lo])) / (k - 1)


def describe(bars, mode: int, tables: dict) -> dict:
    """Features, raw scores and mapped energy/valence of one phrase."""
    f = features(bars, mode)
    e, v = raw_energy(f), raw_valence(f)
    return {"features": f, "raw_energy": e, "raw_valence": v,
            "energy": quantile_map(e, tables["energy"]),
            "valence": quantile_map(v, tables["valence"])}
