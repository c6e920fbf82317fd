"""Turns `Song`s into tonic-relative token phrases: mode, octave placement, windows.

* Mode: the key annotation says major or minor. Within that family the mode whose scale
  covers most of the song's pitch-class weight wins (Ionian/Mixolydian/Lydian for major,
  Aeolian/Dorian/Phrygian for minor), but only if it beats the default (Ionian or Aeolian)
  by MODE_MARGIN of the total weight: the modes differ by one degree, so this asks that
  degree's alternative (b7 vs 7, 6 vs b6, #4 vs 4, b2 vs 2) to be clearly more present.
* Octave: one octave offset per key segment puts the most melody notes into
  MELODY_MIN..=MELODY_MAX (ties: median nearest +7); outliers are folded by octaves.
* Phrases: 4- and 8-bar windows, hop 4 bars, within one key segment, all bars valid.
"""

from collections import Counter

import numpy as np

from . import vocab as V
from .song import RAW_HOLD, RAW_REST

MODE_MARGIN = 0.03
MAJOR_FAMILY = (0, 4, 3)  # Ionian (default), Mixolydian, Lydian
MINOR_FAMILY = (5, 1, 2)  # Aeolian (default), Dorian, Phrygian
PHRASE_BARS = (4, 8)
HOP_BARS = 4


def segments(song):
    """Runs of consecutive bars (indices) sharing one key; invalid bars stay inside."""
    runs, current, key = [], [], None
    for i, bar in enumerate(song.bars):
        k = (bar.tonic, bar.minor) if bar.valid else key
        if current and k != key:
            runs.append(current)
            current = []
        key = k
        current.append(i)
    if current:
        runs.append(current)
    return runs


def pitch_class_weights(bars, tonic: int) -> np.ndarray:
    """Sounding melody steps per pitch class plus 2 per chord tone per bar, tonic-relative."""
    w = np.zeros(12)
    for bar in bars:
        pitch = None
        for step in bar.melody:
            if step >= 0:
                pitch = step
            elif step == RAW_REST:
                pitch = None
            if pitch is not None:
                w[(pitch - tonic) % 12] += 1
        if bar.chord is not None:
            root, quality = bar.chord
            for t in V.QUALITY_TONES[quality]:
                w[(root + t - tonic) % 12] += 2
    return w


def choose_mode(weights: np.ndarray, minor: bool) -> int:
    """Mode index (vocab.MODES) for a segment's pitch-class weights."""
    family = MINOR_FAMILY if minor else MAJOR_FAMILY
    total = weights.sum() or 1.0
    cover = {m: sum(weights[p % 12] for p in V.mode_scale(m)) / total for m in family}
    default = family[0]
    best = max(family, key=lambda m: (cover[m], m == default))
    return best if cover[best] - cover[default] >= MODE_MARGIN else default


def octave_offset(bars, tonic: int) -> int:
    """MIDI pitch of the tonic that places this segment's melody best in the token range."""
    pitches = np.array([s for b in bars for s in b.melody if s >= 0])
    if len(pitches) == 0:
        return 60 + tonic
    best = None
    for base in range(tonic, 128, 12):
        rel = pitches - base
        outside = int(np.sum((rel < V.MELODY_MIN) | (rel > V.MELODY_MAX)))
        key = (outside, abs(float(np.median(rel)) - 7))
        if best is None or key < best[0]:
            best = (key, base)
    return best[1]


def bar_tokens(bar, tonic: int, base: int, mode: int) -> list[int]:
    """Chord token + 8 melody tokens of one valid bar."""
    if bar.chord is None:
        chord = V.NO_CHORD
    else:
        root, quality = bar.chord
        degree, shift = V.numeral(root - tonic, mode)
        chord = V.chord_token(degree, shift, quality)
    out = [chord]
    for step in bar.melody:
        if step == RAW_REST:
            out.append(V.REST)
        elif step == RAW_HOLD:
            out.append(V.HOLD)
        else:
            rel = step - base
            while rel < V.MELODY_MIN:
                rel += 12
            while rel > V.MELODY_MAX:
                rel -= 12
            out.append(V.step_token(rel))
    return out


def normalise_holds(phrase: list[list[int]]) -> list[list[int]]:
    """A hold at the phrase start or after a rest is a rest (nothing to tie)."""
    sounding = False
    out = []
    for bar in phrase:
        new = [bar[0]]
        for t in bar[1:]:
            if t == V.HOLD and not sounding:
                t = V.REST
            sounding = t != V.REST
            new.append(t)
        out.append(new)
    return out


def window_problem(phrase, valid) -> str | None:
    """Why a window is skipped, or None if it is usable."""
    if not all(valid):
        return "contains a bar that is not 4 beats (pickup, metre change, broken beats)"
    onsets = sum(1 for bar in phrase for t in bar[1:] if t >= 2)
    silent_bars = sum(1 for bar in phrase if all(t == V.REST for t in bar[1:]))
    if onsets < len(phrase):
        return "fewer melody onsets than bars"
    if silent_bars > len(phrase) // 4:
        return "more than a quarter of the bars without melody"
    if len({t for bar in phrase for t in bar[1:] if t >= 2}) == 1:
        return "a single melody pitch"
    if all(bar[0] == V.NO_CHORD for bar in phrase):
        return "no chords"
    return None


def song_phrases(song, log, mode_counter: Counter):
    """All usable phrases of a song: dicts with tokens, mode, n_bars, start bar."""
    out = []
    for seg in segments(song):
        bars = [song.bars[i] for i in seg]
        valid_bars = [b for b in bars if b.valid]
        if not valid_bars:
            continue
        tonic, minor = valid_bars[0].tonic, valid_bars[0].minor
        mode = choose_mode(pitch_class_weights(valid_bars, tonic), minor)
        mode_counter[V.MODES[mode]] += 1
        base = octave_offset(valid_bars, tonic)
        toks = [bar_tokens(b, tonic, base, mode) if b.valid else None for b in bars]
        for n in PHRASE_BARS:
            for s in range(0, len(bars) - n + 1, HOP_BARS):
                window = toks[s:s + n]
                valid = [t is not None for t in window]
                phrase = normalise_holds(window) if all(valid) else window
                problem = window_problem(phrase, valid)
                if problem:
                    log(f"{n}-bar window skipped: {problem}")
                    continue
                out.append({"tokens": phrase, "mode": mode, "n_bars": n,
                            "start_bar": seg[s], "tonic": tonic})
    return out
