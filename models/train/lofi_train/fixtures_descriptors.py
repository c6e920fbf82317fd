"""Writes models/fixtures/descriptors.json: hand-made phrases with their descriptor values.

`python -m lofi_train.fixtures_descriptors` (after `label`, which writes the quantile
table). The Rust descriptor implementation is tested against this file.
"""

import json
from pathlib import Path

from . import descriptors as D
from . import vocab as V

R, H = V.REST, V.HOLD


def n(p: int) -> int:
    """Melody token of pitch p (semitones above the tonic)."""
    return V.step_token(p)


def c(degree: int, quality: str, shift: int = 0) -> int:
    """Chord token of a numeral."""
    return V.chord_token(degree, shift, V.QUALITIES.index(quality))


def cases():
    """(name, mode index, bars) of the fixture phrases."""
    ion, dor, aeo, lyd, phr = 0, 1, 5, 3, 2
    return [
        ("silent_one_bar_no_chord", ion, [[0, R, R, R, R, R, R, R, R]]),
        ("one_long_tonic_note", ion, [[c(1, "Major7"), n(0), H, H, H, H, H, H, H]]),
        ("sparse_sad_four_bars", aeo, [
            [c(1, "Minor7"), n(7), H, H, H, R, R, R, R],
            [c(4, "Minor7"), n(5), H, H, H, H, H, R, R],
            [c(1, "Minor7"), n(3), H, H, H, R, R, R, R],
            [c(5, "Minor7"), n(2), H, H, H, H, H, H, H]]),
        ("busy_happy_four_bars", ion, [
            [c(1, "Major7"), n(12), n(14), n(16), n(14), n(12), n(16), n(19), n(16)],
            [c(4, "Major7"), n(17), n(16), n(14), n(17), n(21), n(19), n(17), n(21)],
            [c(5, "Dominant7"), n(19), n(17), n(14), n(19), n(23), n(21), n(19), n(23)],
            [c(1, "Major7"), n(24), n(19), n(16), n(12), n(16), n(19), n(24), H]]),
        ("syncopated_offbeats", dor, [
            [c(1, "Minor7"), R, n(7), R, n(10), R, n(9), R, n(7)],
            [c(4, "Dominant7"), R, n(5), R, n(3), R, n(2), R, n(0)]]),
        ("lydian_rising", lyd, [
            [c(1, "Major7"), n(0), H, n(4), H, n(6), H, n(7), H],
            [c(2, "Major"), n(9), H, n(11), H, n(12), H, n(14), H]]),
        ("phrygian_falling", phr, [
            [c(1, "Minor"), n(12), H, n(10), H, n(8), H, n(7), H],
            [c(2, "Major"), n(5), H, n(3), H, n(1), H, n(0), H]]),
        ("borrowed_chords_and_sus", ion, [
            [c(1, "Major"), n(4), H, H, H, n(7), H, H, H],
            [c(7, "Major", -1), n(2), H, H, H, n(5), H, H, H],
            [c(4, "Minor"), n(0), H, H, H, n(8), H, H, H],
            [c(5, "Sus4"), n(7), H, H, H, H, H, H, H]]),
        ("repeated_chord_wide_range", aeo, [
            [c(1, "Minor"), n(-12), R, n(24), R, n(-5), R, n(19), R],
            [c(1, "Minor"), n(0), R, R, R, R, R, R, R],
            [c(1, "Minor"), n(12), R, R, R, R, R, R, R]]),
        ("eight_bars_mixed", 4, [
            [c(1, "Dominant7"), n(7), H, n(10), H, n(12), R, n(10), n(7)],
            [c(7, "Major"), n(5), H, H, n(2), H, H, n(5), H],
            [c(4, "Major"), n(9), R, n(9), R, n(12), R, n(9), R],
            [c(1, "Dominant7"), n(7), H, H, H, H, H, R, R],
            [0, R, R, R, R, R, R, R, R],
            [c(5, "Minor7"), n(14), n(12), n(10), n(7), H, H, R, R],
            [c(4, "Major"), n(9), H, n(5), H, n(4), H, n(0), H],
            [c(1, "Dominant7"), n(0), H, H, H, H, H, H, H]]),
    ]


def main():
    models = Path(__file__).resolve().parents[2]
    tables = json.loads((models / "lofi_loom_descriptors.json").read_text())
    out = []
    for name, mode, bars in cases():
        d = D.describe(bars, mode, tables)
        out.append({"name": name, "mode": mode, "bars": bars,
                    "features": {k: round(v, 9) for k, v in d["features"].items()},
                    "raw_energy": round(d["raw_energy"], 9),
                    "raw_valence": round(d["raw_valence"], 9),
                    "energy": round(d["energy"], 9), "valence": round(d["valence"], 9)})
    doc = {
        "about": "Lofi Loom descriptor fixtures: phrases (mode index as in Mode::ALL, bars "
                 "of [chord token, 8 melody tokens]) with their features, raw scores and "
                 "0-1 values mapped by models/lofi_loom_descriptors.json. Values rounded "
                 "to 9 decimals; compare with a tolerance of 1e-6.",
        "table": "models/lofi_loom_descriptors.json",
        "phrases": out,
    }
    (models / "fixtures").mkdir(exist_ok=True)
    (models / "fixtures" / "descriptors.json").write_text(json.dumps(doc, indent=1) + "\n")
    for p in out:
        print(f"{p['name']:28s} E={p['energy']:.3f} V={p['valence']:.3f}")


if __name__ == "__main__":
    main()
