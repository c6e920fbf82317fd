"""Lofi Loom's token vocabulary, mirrored from `src/progression.rs` (the source of truth).

A phrase is a list of bars; each bar is one chord token followed by eight melody tokens
(eighth notes in 4/4). Everything is relative to the tonic of the phrase's key, and chord
degrees are relative to the phrase's mode.
"""

MODES = ["Ionian", "Dorian", "Phrygian", "Lydian", "Mixolydian", "Aeolian", "Locrian"]
QUALITIES = ["Major", "Minor", "Diminished", "Dominant7", "Major7", "Minor7",
             "HalfDiminished7", "Sus4"]
IONIAN = [0, 2, 4, 5, 7, 9, 11]

STEPS_PER_BAR = 8
TOKENS_PER_BAR = 1 + STEPS_PER_BAR
MAX_BARS = 8
MELODY_MIN = -12
MELODY_MAX = 24
CHORD_VOCAB = 1 + 7 * 3 * 8
MELODY_VOCAB = 2 + (MELODY_MAX - MELODY_MIN) + 1
REST = 0
HOLD = 1
NO_CHORD = 0

# Major-quality chords (a major third above the root) for the valence descriptor.
MAJOR_THIRD_QUALITIES = {0, 3, 4}  # Major, Dominant7, Major7
# Chord tones (semitones above the root) of each quality.
QUALITY_TONES = {
    0: (0, 4, 7), 1: (0, 3, 7), 2: (0, 3, 6), 3: (0, 4, 7, 10),
    4: (0, 4, 7, 11), 5: (0, 3, 7, 10), 6: (0, 3, 6, 10), 7: (0, 5, 7),
}


def mode_scale(mode: int) -> list[int]:
    """Semitones above the tonic of the seven degrees of `mode` (index in MODES)."""
    out = []
    for i in range(7):
        j = i + mode
        out.append(IONIAN[j % 7] + (12 if j >= 7 else 0) - IONIAN[mode])
    return out


def chord_token(degree: int, shift: int, quality: int) -> int:
    """Token of the numeral `degree` (1-7), `shift` (-1/0/+1), `quality` (0-7)."""
    return 1 + ((degree - 1) * 3 + (shift + 1)) * 8 + quality


def chord_from_token(token: int):
    """(degree, shift, quality) of a chord token, or None for "no chord"."""
    if token == NO_CHORD:
        return None
    t = token - 1
    return (t // 8) // 3 + 1, (t // 8) % 3 - 1, t % 8


def chord_root(token: int, mode: int):
    """Root of a chord token in semitones above the tonic (0-11), or None."""
    c = chord_from_token(token)
    if c is None:
        return None
    degree, shift, _ = c
    return (mode_scale(mode)[degree - 1] + shift) % 12


def chord_pitch_classes(token: int, mode: int) -> set[int]:
    """Pitch classes (relative to the tonic) of a chord token's tones."""
    c = chord_from_token(token)
    if c is None:
        return set()
    root = chord_root(token, mode)
    return {(root + t) % 12 for t in QUALITY_TONES[c[2]]}


def step_token(pitch: int) -> int:
    """Melody token of a note `pitch` semitones above the tonic."""
    return 2 + (max(MELODY_MIN, min(MELODY_MAX, pitch)) - MELODY_MIN)


def step_pitch(token: int):
    """Pitch (semitones above the tonic) of a melody token, or None for rest/hold."""
    return None if token < 2 else token - 2 + MELODY_MIN


def numeral(root: int, mode: int) -> tuple[int, int]:
    """(degree, shift) naming a root (semitones above the tonic) in `mode`.

    A root on the scale is that degree with shift 0; otherwise it is written as the
    lowered degree above it (e.g. bVII in Ionian, bII in Aeolian), which is how borrowed
    chords are usually spelled, so each root has exactly one spelling.
    """
    scale = mode_scale(mode)
    root %= 12
    if root in scale:
        return scale.index(root) + 1, 0
    for d, s in enumerate(scale):
        if (s - 1) % 12 == root:
            return d + 1, -1
    raise ValueError(f"root {root} has no spelling in mode {mode}")
