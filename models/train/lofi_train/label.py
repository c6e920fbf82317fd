"""Labels every phrase with energy/valence and writes the quantile table.

`python -m lofi_train.label` reads work/dataset.npz, computes the raw descriptors of each
phrase, builds 101-entry quantile tables from the TRAINING phrases only, writes
models/lofi_loom_descriptors.json (the table Rust reproduces the mapping with) and
work/labels.npz (raw and mapped energy/valence per phrase).
"""

import argparse
import json
from pathlib import Path

import numpy as np

from . import descriptors as D

QUANTILES = 101
TABLE_VERSION = 1


def phrase_bars(tokens: np.ndarray, n_bars: int):
    """The bars of a padded dataset phrase as lists of ints."""
    return [[int(t) for t in bar] for bar in tokens[:n_bars]]


def build_tables(raw_e: np.ndarray, raw_v: np.ndarray) -> dict:
    """Quantile tables (rounded to 6 decimals so JSON and Rust agree exactly)."""
    qs = np.linspace(0, 1, QUANTILES)
    return {
        "version": TABLE_VERSION,
        "quantiles": QUANTILES,
        "energy": [round(float(x), 6) for x in np.quantile(raw_e, qs)],
        "valence": [round(float(x), 6) for x in np.quantile(raw_v, qs)],
        "energy_weights": D.ENERGY_WEIGHTS,
        "valence_weights": D.VALENCE_WEIGHTS,
        "mode_brightness_by_mode_index": [D.MODE_BRIGHTNESS[m] / 6 for m in range(7)],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--work", type=Path, default=here / "work")
    ap.add_argument("--table-out", type=Path,
                    default=here.parent / "lofi_loom_descriptors.json")
    args = ap.parse_args()
    d = np.load(args.work / "dataset.npz")
    raw_e, raw_v = [], []
    for tok, nb, mode in zip(d["tokens"], d["n_bars"], d["mode"]):
        f = D.features(phrase_bars(tok, int(nb)), int(mode))
        raw_e.append(D.raw_energy(f))
        raw_v.append(D.raw_valence(f))
    raw_e, raw_v = np.array(raw_e), np.array(raw_v)
    train = d["split"] == 0
    tables = build_tables(raw_e[train], raw_v[train])
    args.table_out.write_text(json.dumps(tables, indent=1) + "\n")
    energy = np.array([D.quantile_map(x, tables["energy"]) for x in raw_e], dtype=np.float32)
    valence = np.array([D.quantile_map(x, tables["valence"]) for x in raw_v], dtype=np.float32)
    np.savez(args.work / "labels.npz", raw_energy=raw_e, raw_valence=raw_v,
             energy=energy, valence=valence)
    corr = np.corrcoef(energy[train], valence[train])[0, 1]
    print(f"labelled {len(raw_e)} phrases; train energy/valence correlation {corr:.3f}")


if __name__ == "__main__":
    main()
