"""Reads OpenEWLD lead sheets (compressed MusicXML) into `Song`s.

The MusicXML is read directly with the standard library (each lead sheet is one part:
notes, ties, <harmony> chord symbols, one key): faster and more predictable than a full
score model. Bars are measures four quarter notes long (4/4 and 2/2); other measures
(pickups, 3/4, 6/8 ...) are invalid bars, and songs with no such measure are dropped.
Repeats are not unfolded: the measures are read in written order.
"""

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from .song import MUSICXML_QUALITY, RawBar, Song, fill_grid, longest_chord

STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _xml_root(path: Path) -> ET.Element:
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist()
                    if n.endswith(".xml") and not n.startswith("META-INF"))
        return ET.fromstring(z.read(name))


def _int(el, tag, default=0):
    child = el.find(tag)
    if child is None or child.text is None:
        return default
    try:
        return int(float(child.text))
    except ValueError:
        return default


def _harmony(el):
    """(root pc, quality) of a <harmony>, None for "no chord", or "skip" if unreadable."""
    kind = el.findtext("kind", default="").strip()
    root = el.find("root")
    if kind == "none":
        return None
    if root is None or kind not in MUSICXML_QUALITY:
        return "skip"
    pc = STEP_PC[root.findtext("root-step").strip()] + _int(root, "root-alter")
    return pc % 12, MUSICXML_QUALITY[kind]


def read_song(path: Path, song_id: str, log) -> Song | None:
    """Reads one lead sheet; returns None (and counts why in `log`) if unusable."""
    root = _xml_root(path)
    part = root.find("part")
    if part is None:
        log("openewld: song dropped, no part")
        return None
    divisions, beats, beat_type, fifths = 1, 4, 4, None
    pos = 0.0  # quarter notes from the start
    measures = []  # (start, length in quarters, valid)
    notes, spans_open, harmony_pts = [], None, []
    last_pitch_note = None
    for measure in part.findall("measure"):
        start = pos
        cursor = pos
        end_reached = pos
        for el in measure:
            if el.tag == "attributes":
                divisions = _int(el, "divisions", divisions) or divisions
                time = el.find("time")
                if time is not None:
                    beats, beat_type = _int(time, "beats", 4), _int(time, "beat-type", 4)
                key = el.find("key")
                if key is not None and key.find("fifths") is not None:
                    if fifths is not None and _int(key, "fifths") != fifths:
                        log("openewld: key change inside a song (later key ignored)")
                    else:
                        fifths = _int(key, "fifths")
            elif el.tag == "harmony":
                offset = _int(el, "offset") / divisions
                harmony_pts.append((cursor + offset, _harmony(el)))
            elif el.tag == "backup":
                cursor -= _int(el, "duration") / divisions
            elif el.tag == "forward":
                cursor += _int(el, "duration") / divisions
            elif el.tag == "note":
                if el.find("grace") is not None:
                    continue
                voice = el.findtext("voice", default="1").strip()
                dur = _int(el, "duration") / divisions
                is_chord = el.find("chord") is not None
                onset = cursor - (last_pitch_note[1] if is_chord and last_pitch_note else 0.0)
                if voice == "1" and el.find("rest") is None and el.find("pitch") is not None:
                    p = el.find("pitch")
                    midi = (12 * (_int(p, "octave") + 1) + STEP_PC[p.findtext("step").strip()]
                            + _int(p, "alter"))
                    ties = {t.get("type") for t in el.findall("tie")}
                    notes.append((onset, onset + dur, midi, "stop" in ties))
                    last_pitch_note = (midi, dur)
                if not is_chord:
                    cursor += dur
            end_reached = max(end_reached, cursor)
        length = end_reached - start
        four_quarters = abs(length - 4.0) < 1e-6 and beats * 4 / beat_type == 4
        measures.append((start, length, four_quarters))
        pos = end_reached
    if fifths is None:
        log("openewld: song dropped, no key signature")
        return None
    if not any(m[2] for m in measures):
        log("openewld: song dropped, no 4/4 or 2/2 measure (other metre)")
        return None

    # Tied continuations extend the previous note instead of starting a new one.
    merged = []
    for onset, end, midi, tied in sorted(notes):
        if tied and merged and merged[-1][2] == midi and abs(merged[-1][1] - onset) < 1e-6:
            merged[-1] = (merged[-1][0], end, midi)
        else:
            merged.append((onset, end, midi))
    n_steps = int(round(2 * pos)) + 8
    grid = fill_grid(n_steps, [(int(round(2 * a)), int(round(2 * b)), m) for a, b, m in merged])

    spans, usable = [], [(t, c) for t, c in harmony_pts if c != "skip"]
    for i, (t, chord) in enumerate(usable):
        end = usable[i + 1][0] if i + 1 < len(usable) else pos
        spans.append((t, end, chord))

    major_tonic = (7 * fifths) % 12
    minor = _ends_in_relative_minor(spans, major_tonic)
    tonic = (major_tonic + 9) % 12 if minor else major_tonic
    bars = []
    for start, length, valid in measures:
        step0 = int(round(2 * start))
        if not valid or abs(2 * start - step0) > 1e-6:
            bars.append(RawBar(valid=False))
            continue
        bars.append(RawBar(valid=True, tonic=tonic, minor=minor,
                           chord=longest_chord(spans, start, start + length),
                           melody=grid[step0: step0 + 8]))
    return Song(song_id=song_id, source="openewld", bars=bars)


def _ends_in_relative_minor(spans, major_tonic: int) -> bool:
    """Whether a lead sheet is in the relative minor of its key signature.

    The MusicXML <mode> is "major" in almost every OpenEWLD file whatever the music, so the
    final chord decides: a minor-third chord on the relative minor's tonic means minor.
    """
    chords = [c for _, _, c in spans if c is not None]
    if not chords:
        return False
    root, quality = chords[-1]
    return root == (major_tonic + 9) % 12 and quality in (1, 5)


def read_all(root: Path, log):
    """All usable OpenEWLD songs under `root` (the folder holding dataset/)."""
    songs = []
    for path in sorted((root / "dataset").rglob("*.mxl")):
        rel = path.relative_to(root / "dataset").with_suffix("")
        try:
            song = read_song(path, f"openewld/{rel.parent}", log)
        except (ET.ParseError, zipfile.BadZipFile, StopIteration, KeyError) as e:
            log(f"openewld: song dropped, unreadable ({type(e).__name__})")
            song = None
        if song is not None:
            songs.append(song)
    return songs
