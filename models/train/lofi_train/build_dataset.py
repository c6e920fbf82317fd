"""Builds the phrase dataset from POP909 and OpenEWLD: `python -m lofi_train.build_dataset`.

Writes work/dataset.npz (tokens, modes, lengths, split, song index) and work/data_log.json
(counts of songs, bars, phrases and everything dropped, with reasons). Splits by song.
"""

import argparse
import json
import random
from collections import Counter
from pathlib import Path

import numpy as np

from . import openewld, pop909
from . import vocab as V
from .phrasing import PHRASE_BARS, song_phrases

SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
SPLIT_IDS = {"train": 0, "val": 1, "test": 2}


def split_songs(song_ids, seed: int) -> dict:
    """Song id -> split name, a seeded shuffle cut 80/10/10 within each source."""
    out = {}
    for source in sorted({s.split("/")[0] for s in song_ids}):
        ids = sorted(s for s in song_ids if s.startswith(source + "/"))
        random.Random(seed).shuffle(ids)
        n_val = round(len(ids) * SPLIT_FRACTIONS["val"])
        n_test = round(len(ids) * SPLIT_FRACTIONS["test"])
        for i, sid in enumerate(ids):
            out[sid] = "val" if i < n_val else "test" if i < n_val + n_test else "train"
    return out


def build(data_root: Path, out_dir: Path, seed: int) -> dict:
    """Reads both corpora, writes the dataset and returns the log."""
    dropped = Counter()

    def log(reason: str):
        dropped[reason] += 1

    songs = (pop909.read_all(data_root / "pop909" / "POP909", log)
             + openewld.read_all(data_root / "openewld", log))
    modes = Counter()
    phrases, song_of = [], []
    for si, song in enumerate(songs):
        for p in song_phrases(song, log, modes):
            phrases.append(p)
            song_of.append(si)
    ids = [s.song_id for s in songs]
    split = split_songs(ids, seed)

    n = len(phrases)
    tokens = np.full((n, V.MAX_BARS, V.TOKENS_PER_BAR), -1, dtype=np.int16)
    for i, p in enumerate(phrases):
        tokens[i, :p["n_bars"]] = np.array(p["tokens"])
    arrays = {
        "tokens": tokens,
        "n_bars": np.array([p["n_bars"] for p in phrases], dtype=np.int8),
        "mode": np.array([p["mode"] for p in phrases], dtype=np.int8),
        "song": np.array(song_of, dtype=np.int32),
        "split": np.array([SPLIT_IDS[split[ids[s]]] for s in song_of], dtype=np.int8),
        "source": np.array([0 if ids[s].startswith("pop909") else 1 for s in song_of],
                           dtype=np.int8),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / "dataset.npz", song_ids=np.array(ids), **arrays)

    report = {"seed": seed, "sources": {}, "dropped": dict(sorted(dropped.items())),
              "key_segments_by_mode": dict(modes)}
    for src_i, src in enumerate(("pop909", "openewld")):
        src_songs = [s for s in songs if s.source == src]
        sel = arrays["source"] == src_i
        entry = {
            "songs_read": len(src_songs),
            "bars_read": sum(len(s.bars) for s in src_songs),
            "valid_4_4_bars": sum(b.valid for s in src_songs for b in s.bars),
            "songs_with_phrases": len(set(arrays["song"][sel].tolist())),
        }
        for name, sid in SPLIT_IDS.items():
            m = sel & (arrays["split"] == sid)
            entry[f"{name}_songs"] = len(set(arrays["song"][m].tolist()))
            for nb in PHRASE_BARS:
                entry[f"{name}_{nb}bar_phrases"] = int(np.sum(m & (arrays["n_bars"] == nb)))
        report["sources"][src] = entry
    report["phrases_total"] = n
    report["phrases_by_mode"] = {V.MODES[m]: int(c) for m, c in
                                 zip(*np.unique(arrays["mode"], return_counts=True))}
    (out_dir / "data_log.json").write_text(json.dumps(report, indent=2))
    return report



def main():
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--data", type=Path, default=here.parents[2] / "shared" / "data",
                    help="folder holding pop909/ and openewld/ (default ../shared/data)")
    ap.add_argument("--out", type=Path, default=here / "work")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    print(json.dumps(build(args.data, args.out, args.seed), indent=2))


if __name__ == "__main__":
    main()
