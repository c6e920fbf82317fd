"""Candidates in the evaluation: `python -m lofi_train.evaluate_candidates` -> work/eval_candidates.json.

The plugin plays, for a new seed, the closest to the knobs of 8 candidates (each from its own
seed; distance = squared difference of the measured energy and valence from the knobs).
This reproduces that choice with onnxruntime and NumPy draws (candidate i of seed s uses the
NumPy seed `CANDIDATE_BASE + 8 * s + i`; the plugin derives its seeds differently and draws
with ChaCha8, so phrases differ but the method is the same) over `evaluate.py`'s knob grid,
and measures, next to the seed's own phrases (candidate 0): controllability (Spearman rho and
the mean |knob - descriptor|, cross-talk), and the onset-density and interval histograms'
overlap with the held-out TEST phrases, the figures `evaluate.py` reports for single
phrases. Needs `work/dataset.npz` (`build_dataset`).
"""

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from . import descriptors as D
from .evaluate import (GRID, MAX_REDRAWS, SEEDS, dataset_phrases, generate, interval_hist,
                       onset_hist, overlap)
from .export import OrtDecoder

CANDIDATES = 8
CANDIDATE_BASE = 1_000_000


def figures(rows, gen, test):
    arr = np.array(rows)
    return {
        "rho_energy": float(spearmanr(arr[:, 0], arr[:, 2])[0]),
        "rho_valence": float(spearmanr(arr[:, 1], arr[:, 3])[0]),
        "mean_abs_energy": float(np.mean(np.abs(arr[:, 2] - arr[:, 0]))),
        "mean_abs_valence": float(np.mean(np.abs(arr[:, 3] - arr[:, 1]))),
        "crosstalk_energy_knob_vs_valence": float(spearmanr(arr[:, 0], arr[:, 3])[0]),
        "crosstalk_valence_knob_vs_energy": float(spearmanr(arr[:, 1], arr[:, 2])[0]),
        "onset_density_overlap": float(overlap(onset_hist(gen), onset_hist(test))),
        "interval_overlap": float(overlap(interval_hist(gen), interval_hist(test))),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--work", type=Path, default=here / "work")
    ap.add_argument("--models", type=Path, default=here.parent)
    args = ap.parse_args()
    tables = json.loads((args.models / "lofi_loom_descriptors.json").read_text())
    meta = json.loads((args.models / "lofi_loom_model.json").read_text())
    dec = OrtDecoder(args.models)
    z_dim = meta["z_dim"]
    own_rows, own_gen, best_rows, best_gen = [], [], [], []
    for e in GRID:
        for v in GRID:
            for seed in range(SEEDS):
                cands = []
                for i in range(CANDIDATES):
                    mode, bars = generate(dec, z_dim, e, v, CANDIDATE_BASE + CANDIDATES * seed + i,
                                          redraws=MAX_REDRAWS)
                    d = D.describe(bars, mode, tables)
                    cands.append(((d["energy"] - e) ** 2 + (d["valence"] - v) ** 2,
                                  i, d, mode, bars))
                _, _, d, mode, bars = cands[0]
                own_rows.append((e, v, d["energy"], d["valence"]))
                own_gen.append((mode, bars))
                _, _, d, mode, bars = min(cands, key=lambda c: (c[0], c[1]))
                best_rows.append((e, v, d["energy"], d["valence"]))
                best_gen.append((mode, bars))
    test = dataset_phrases(args.work, 2, 8)
    out = {
        "grid": GRID, "seeds": SEEDS, "candidates": CANDIDATES,
        "test_phrases_8bar": len(test),
        "seed_own_phrase": figures(own_rows, own_gen, test),
        "closest_of_8": figures(best_rows, best_gen, test),
    }
    (args.work / "eval_candidates.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
