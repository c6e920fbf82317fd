"""The source-independent form of a song, before it is written in tokens.

Both readers (POP909, OpenEWLD) produce a `Song`: a list of bars on the common 4/4 grid,
each with the key in force, the bar's chord (the one sounding longest) and eight melody
steps in absolute MIDI pitches. `phrasing.py` turns it into tonic-relative tokens.
"""

from dataclasses import dataclass, field

# Melody step values before tokenisation: a MIDI pitch (0-127), or one of these.
RAW_REST = -1
RAW_HOLD = -2

PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def pitch_class(name: str) -> int:
    """Pitch class of a note name such as `Bb`, `C#`, `Gb`."""
    pc = PITCH_CLASS[name[0].upper()]
    for ch in name[1:]:
        pc += {"#": 1, "b": -1, "s": 1}.get(ch, 0)
    return pc % 12


@dataclass
class RawBar:
    """One 4/4 bar of a song, in absolute pitch."""
    valid: bool  # False for bars that are not four beats long (pickups, 3/4 bars, broken beats).
    tonic: int = 0  # Tonic pitch class of the key in force.
    minor: bool = False  # Whether the annotated key is minor.
    chord: tuple | None = None  # (root pitch class, quality index) or None for no chord.
    melody: list = field(default_factory=lambda: [RAW_REST] * 8)  # Eight steps.


@dataclass
class Song:
    """A song on the eighth-note grid."""
    song_id: str  # e.g. "pop909/001".
    source: str  # "pop909" or "openewld".
    bars: list  # RawBar, in order.


def split_label(label: str) -> tuple[str, str]:
    """Splits a Harte-style chord label `Root:quality/bass` into root and quality."""
    root, _, rest = label.partition(":")
    return root, rest.split("/")[0] if rest else "maj"


# Harte (POP909) chord qualities mapped to Lofi Loom's eight qualities (indices in
# vocab.QUALITIES). Extensions keep the triad and seventh; sixths keep the triad; sus2 has
# no third, like sus4, so it maps to the suspended quality; aug has a major third.
HARTE_QUALITY = {
    "maj": 0, "min": 1, "dim": 2, "aug": 0, "7": 3, "maj7": 4, "min7": 5, "hdim7": 6,
    "dim7": 2, "sus4": 7, "sus2": 7, "sus4(b7)": 7, "maj6": 0, "min6": 1, "minmaj7": 1,
    "9": 3, "maj9": 4, "min9": 5, "11": 3, "13": 3, "min11": 5, "aug7": 3,
}

# MusicXML <kind> values mapped the same way.
MUSICXML_QUALITY = {
    "major": 0, "minor": 1, "diminished": 2, "augmented": 0, "dominant": 3,
    "dominant-seventh": 3, "major-seventh": 4, "minor-seventh": 5, "half-diminished": 6,
    "diminished-seventh": 2, "suspended-fourth": 7, "suspended-second": 7, "major-sixth": 0,
    "minor-sixth": 1, "dominant-ninth": 3, "dominant-11th": 3, "dominant-13th": 3,
    "minor-ninth": 5, "minor-11th": 5, "minor-13th": 5, "major-ninth": 4, "major-11th": 4,
    "major-13th": 4, "augmented-seventh": 3, "augmented-ninth": 3, "minor-major": 1,
    "major-minor": 1, "maj69": 0, "power": 0, "7": 3,
}


def longest_chord(spans, bar_start: float, bar_end: float):
    """The chord sounding longest in [bar_start, bar_end) among (start, end, chord) spans.

    `chord` is (root pc, quality) or None (no chord). Ties go to the earlier span.
    """
    best, best_len = None, 0.0
    totals: dict = {}
    order = []
    for start, end, chord in spans:
        overlap = min(end, bar_end) - max(start, bar_start)
        if overlap > 1e-6:
            if chord not in totals:
                order.append(chord)
            totals[chord] = totals.get(chord, 0.0) + overlap
    for chord in order:
        if totals[chord] > best_len + 1e-9:
            best, best_len = chord, totals[chord]
    return best


def fill_grid(n_steps: int, notes) -> list:
    """Writes (onset step, offset step, pitch) notes onto a grid of `n_steps` melody steps.

    An onset is a pitch, the steps it sustains are RAW_HOLD, and a later onset cuts the
    earlier note off. Two onsets on one step keep the higher pitch (the melody line).
    """
    grid = [RAW_REST] * n_steps
    for on, off, pitch in sorted(notes):
        if not 0 <= on < n_steps:
            continue
        if grid[on] >= 0:
            grid[on] = max(grid[on], pitch)
            continue
        grid[on] = pitch
        k = on + 1
        while k < n_steps and grid[k] == RAW_HOLD:  # cut the previous note off
            grid[k] = RAW_REST
            k += 1
        for k in range(on + 1, min(max(off, on + 1), n_steps)):
            if grid[k] >= 0:
                break
            grid[k] = RAW_HOLD
    return grid
