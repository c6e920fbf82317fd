"""Reads POP909 songs (MELODY track, beat, chord and key annotations) into `Song`s.

Bars come from the MIDI-aligned downbeats in `beat_midi.txt`; a bar is valid when it is
exactly four beats long. Note and chord times (seconds) are mapped to beat positions by
interpolating between annotated beats, then to the eighth-note grid by rounding.
"""

from pathlib import Path

import mido
import numpy as np

from .song import HARTE_QUALITY, RawBar, Song, fill_grid, longest_chord, pitch_class, split_label


def _tempo_map(mid: mido.MidiFile):
    """(tick, seconds, tempo) breakpoints of the file's tempo map."""
    changes = sorted(
        (abs_tick, msg.tempo)
        for track in mid.tracks
        for abs_tick, msg in _absolute(track)
        if msg.type == "set_tempo"
    )
    points, sec, last_tick, tempo = [], 0.0, 0, 500000
    for tick, new_tempo in changes:
        sec += mido.tick2second(tick - last_tick, mid.ticks_per_beat, tempo)
        points.append((tick, sec, new_tempo))
        last_tick, tempo = tick, new_tempo
    return points or [(0, 0.0, 500000)]


def _absolute(track):
    tick = 0
    for msg in track:
        tick += msg.time
        yield tick, msg


def _seconds(tick: int, tempo_map, tpb: int) -> float:
    base_tick, base_sec, tempo = 0, 0.0, 500000
    for t, s, tp in tempo_map:
        if t > tick:
            break
        base_tick, base_sec, tempo = t, s, tp
    return base_sec + mido.tick2second(tick - base_tick, tpb, tempo)


def melody_notes(path: Path):
    """(start s, end s, pitch) of the notes of the MELODY track."""
    mid = mido.MidiFile(path)
    tmap = _tempo_map(mid)
    for track in mid.tracks:
        if track.name.strip().upper() != "MELODY":
            continue
        notes, open_notes = [], {}
        for tick, msg in _absolute(track):
            if msg.type == "note_on" and msg.velocity > 0:
                open_notes[msg.note] = tick
            elif msg.type in ("note_off", "note_on") and msg.note in open_notes:
                start = open_notes.pop(msg.note)
                notes.append((_seconds(start, tmap, mid.ticks_per_beat),
                              _seconds(tick, tmap, mid.ticks_per_beat), msg.note))
        return notes
    return []


def _parse_chord(label: str):
    if label in ("N", "X"):
        return None
    root, quality = split_label(label)
    if quality not in HARTE_QUALITY:
        raise KeyError(quality)
    return pitch_class(root), HARTE_QUALITY[quality]


def read_song(folder: Path, log) -> Song | None:
    """Reads one POP909 song folder; returns None (and counts why in `log`) if unusable."""
    sid = folder.name
    beats = np.loadtxt(folder / "beat_midi.txt", ndmin=2)
    times, downbeat = beats[:, 0], beats[:, 2] > 0.5
    db_idx = np.flatnonzero(downbeat)
    if len(db_idx) < 5:
        log("pop909: song dropped, fewer than 5 downbeats")
        return None
    lengths = np.diff(db_idx)
    if np.mean(lengths == 4) < 0.5:
        log("pop909: song dropped, not in 4/4 (most bars are not 4 beats)")
        return None

    def beat_pos(t):
        return np.interp(t, times, np.arange(len(times)), left=-1.0, right=len(times) + 1.0)

    n_steps = 2 * len(times)
    notes = []
    for start, end, pitch in melody_notes(folder / f"{sid}.mid"):
        on = int(round(2 * beat_pos(start)))
        off = int(round(2 * beat_pos(end)))
        notes.append((on, off, pitch))
    grid = fill_grid(n_steps, notes)

    spans = []
    for line in (folder / "chord_midi.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        try:
            chord = _parse_chord(parts[2])
        except KeyError:
            log(f"pop909: unknown chord quality {parts[2]} read as no chord")
            chord = None
        spans.append((beat_pos(float(parts[0])), beat_pos(float(parts[1])), chord))

    keys = []
    for line in (folder / "key_audio.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3:
            root, quality = split_label(parts[2])
            keys.append((beat_pos(float(parts[0])), beat_pos(float(parts[1])),
                         (pitch_class(root), quality.startswith("min"))))
    if not keys:
        log("pop909: song dropped, no key annotation")
        return None

    bars = []
    for i in range(len(db_idx)):
        start = db_idx[i]
        end = db_idx[i + 1] if i + 1 < len(db_idx) else start + 4
        if end - start != 4 or end > len(times):
            bars.append(RawBar(valid=False))
            continue
        key = longest_chord(keys, start, end) or keys[0][2]
        bars.append(RawBar(
            valid=True, tonic=key[0], minor=key[1],
            chord=longest_chord(spans, start, end),
            melody=grid[2 * start: 2 * start + 8],
        ))
    return Song(song_id=f"pop909/{sid}", source="pop909", bars=bars)


def read_all(root: Path, log):
    """All usable POP909 songs under `root` (the folder holding 001 ... 909)."""
    songs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        song = read_song(folder, log)
        if song is not None:
            songs.append(song)
    return songs
