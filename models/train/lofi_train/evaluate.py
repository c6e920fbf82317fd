"""Evaluates the exported graphs: `python -m lofi_train.evaluate` -> work/eval.json.

Generates phrases with onnxruntime over a knob grid (energy, valence in GRID, SEEDS seeds
per cell; the same seed gives the same z and uniforms in every cell) and measures:
controllability (Spearman rho of knob vs descriptor, and cross-talk), quality against the
held-out TEST songs (chord-tone ratio on beats, pitch-class entropy, onset-density and
interval histogram overlap), degenerate phrases, distinct chord progressions over 100 seeds
at fixed knobs, and exact 4-bar melody copies of training melodies. Also the test-set
reconstruction loss and the onnxruntime time per 8-bar phrase.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from . import descriptors as D
from . import vocab as V
from .export import OrtDecoder

GRID = [0.1, 0.3, 0.5, 0.7, 0.9]
SEEDS = 40
BARS = 8
TEMPERATURE = 1.0


MAX_REDRAWS = 3  # the plugin's policy for degenerate phrases, mirrored in `generate`


def draw(seed: int, z_dim: int):
    """z ~ N(0, I), the mode uniform and [8, 9] bar uniforms of one seed, and the stream
    (for redraws)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(z_dim).astype(np.float32), float(rng.random()),
            rng.random((BARS, 9)), rng)


def generate(dec, z_dim, energy, valence, seed, temperature=TEMPERATURE, redraws=0,
             top_p=1.0):
    """(mode, bars) of one seed. With `redraws` > 0, the plugin's policy: while the phrase is
    `degenerate`, at most `redraws` times, draw fresh [8, 9] uniforms from the same stream
    (continuing it; z and mode are kept) and decode again; the last result is kept."""
    z, mu, u, rng = draw(seed, z_dim)
    mode, _ = dec.choose_mode(z, energy, valence, temperature, mu)
    bars = dec.phrase(z, energy, valence, mode, BARS, u, temperature, top_p=top_p)
    for _ in range(redraws):
        if degenerate(bars) is None:
            break
        bars = dec.phrase(z, energy, valence, mode, BARS, rng.random((BARS, 9)), temperature,
                          top_p=top_p)
    return mode, bars


def onsets(bars):
    return [V.step_pitch(t) for bar in bars for t in bar[1:] if t >= 2]


def chord_tone_ratio(phrases):
    """Share of melody onsets on beats (steps 0, 2, 4, 6) that are tones of the bar's chord."""
    hit = tot = 0
    for mode, bars in phrases:
        for bar in bars:
            pcs = V.chord_pitch_classes(bar[0], mode)
            if not pcs:
                continue
            for k in (0, 2, 4, 6):
                p = V.step_pitch(bar[1 + k])
                if p is not None:
                    tot += 1
                    hit += (p % 12) in pcs
    return hit / max(tot, 1)


def hist(values, bins):
    h = np.zeros(len(bins))
    for x in values:
        h[bins.index(x)] += 1
    return h / max(h.sum(), 1)


def pc_entropy(phrases):
    h = hist([p % 12 for _, b in phrases for p in onsets(b)], list(range(12)))
    nz = h[h > 0]
    return float(-(nz * np.log2(nz)).sum())


def onset_hist(phrases):
    return hist([sum(t >= 2 for t in bar[1:]) for _, b in phrases for bar in b], list(range(9)))


def interval_hist(phrases):
    vals = []
    for _, b in phrases:
        ps = onsets(b)
        vals += [max(-12, min(12, y - x)) for x, y in zip(ps, ps[1:])]
    return hist(vals, list(range(-12, 13)))


def overlap(p, q):
    return float(np.minimum(p, q).sum())


def degenerate(bars):
    """Why a phrase is degenerate (all rests, one repeated pitch, one chord), or None."""
    ps = onsets(bars)
    if not ps:
        return "all rests"
    if len(set(ps)) == 1:
        return "one repeated note"
    if len({bar[0] for bar in bars}) == 1:
        return "one repeated chord"
    return None


def melody_windows(bars, n=4):
    return {tuple(t for bar in bars[i:i + n] for t in bar[1:]) for i in range(len(bars) - n + 1)}


def same_seed_agreement(gen):
    """Share of identical tokens: same seed, neighbouring energy (or valence) cells, against
    different seeds in the same cell. `gen` is ordered energy, valence, seed."""
    n = len(GRID)

    def at(ei, vi, seed):
        return np.array(gen[(ei * n + vi) * SEEDS + seed][1])

    def agree(a, b):
        return float(np.mean(a == b))

    e_nb, v_nb, other = [], [], []
    for ei in range(n):
        for vi in range(n):
            for seed in range(SEEDS):
                if ei + 1 < n:
                    e_nb.append(agree(at(ei, vi, seed), at(ei + 1, vi, seed)))
                if vi + 1 < n:
                    v_nb.append(agree(at(ei, vi, seed), at(ei, vi + 1, seed)))
                other.append(agree(at(ei, vi, seed), at(ei, vi, (seed + 1) % SEEDS)))
    return {"token_agreement_same_seed_next_energy_cell": float(np.mean(e_nb)),
            "token_agreement_same_seed_next_valence_cell": float(np.mean(v_nb)),
            "token_agreement_different_seeds_same_cell": float(np.mean(other))}


def dataset_phrases(work: Path, split: int, n_bars=None):
    d = np.load(work / "dataset.npz")
    out = []
    for tok, nb, mode, s in zip(d["tokens"], d["n_bars"], d["mode"], d["split"]):
        if s == split and (n_bars is None or nb == n_bars):
            out.append((int(mode), [[int(t) for t in bar] for bar in tok[:nb]]))
    return out


def test_recon(work: Path, checkpoint: Path):
    """Teacher-forced test-set token cross-entropy (nats/token) and KL with the PyTorch model."""
    import torch
    from .export import load_model
    from .train import evaluate, load_split
    torch.set_num_threads(1)
    model = load_model(checkpoint)
    _, parts = evaluate(model, load_split(work, 2))
    return parts


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--work", type=Path, default=here / "work")
    ap.add_argument("--models", type=Path, default=here.parent)
    ap.add_argument("--checkpoint", type=Path, default=here / "work" / "model.pt")
    args = ap.parse_args()
    tables = json.loads((args.models / "lofi_loom_descriptors.json").read_text())
    meta = json.loads((args.models / "lofi_loom_model.json").read_text())
    dec = OrtDecoder(args.models)
    z_dim = meta["z_dim"]

    rows, gen = [], []
    t0 = time.perf_counter()
    for e in GRID:
        for v in GRID:
            for seed in range(SEEDS):
                mode, bars = generate(dec, z_dim, e, v, seed)
                d = D.describe(bars, mode, tables)
                rows.append((e, v, d["energy"], d["valence"], mode))
                gen.append((mode, bars))
    per_phrase_ms = (time.perf_counter() - t0) / len(gen) * 1000
    arr = np.array(rows)
    ctrl = {
        "rho_energy": spearmanr(arr[:, 0], arr[:, 2])[0],
        "rho_valence": spearmanr(arr[:, 1], arr[:, 3])[0],
        "crosstalk_energy_knob_vs_valence": spearmanr(arr[:, 0], arr[:, 3])[0],
        "crosstalk_valence_knob_vs_energy": spearmanr(arr[:, 1], arr[:, 2])[0],
    }
    per_knob = {
        "mean_energy_by_energy_knob": [float(arr[arr[:, 0] == g, 2].mean()) for g in GRID],
        "mean_valence_by_valence_knob": [float(arr[arr[:, 1] == g, 3].mean()) for g in GRID],
        "mode_share_by_valence_knob": {
            V.MODES[m]: [float(np.mean(arr[arr[:, 1] == g, 4] == m)) for g in GRID]
            for m in sorted(set(arr[:, 4].astype(int)))},
    }
    test = dataset_phrases(args.work, 2, 8)
    train = dataset_phrases(args.work, 0)
    reasons = [degenerate(b) for _, b in gen]
    # The plugin redraws a degenerate phrase (at most MAX_REDRAWS times, same stream).
    seeds = [seed for _ in GRID for _ in GRID for seed in range(SEEDS)]
    after = [r if r is None else degenerate(generate(dec, z_dim, row[0], row[1], seed,
                                                     redraws=MAX_REDRAWS)[1])
             for r, row, seed in zip(reasons, rows, seeds)]
    # The same grid with top-p 0.9 (knob-following and degenerate phrases only).
    rows_p = []
    for e in GRID:
        for v in GRID:
            for seed in range(SEEDS):
                mode, bars = generate(dec, z_dim, e, v, seed, top_p=0.9)
                d = D.describe(bars, mode, tables)
                rows_p.append((e, v, d["energy"], d["valence"], degenerate(bars) is not None))
    arr_p = np.array(rows_p)
    top_p_09 = {
        "rho_energy": float(spearmanr(arr_p[:, 0], arr_p[:, 2])[0]),
        "rho_valence": float(spearmanr(arr_p[:, 1], arr_p[:, 3])[0]),
        "crosstalk_energy_knob_vs_valence": float(spearmanr(arr_p[:, 0], arr_p[:, 3])[0]),
        "crosstalk_valence_knob_vs_energy": float(spearmanr(arr_p[:, 1], arr_p[:, 2])[0]),
        "degenerate_rate": float(arr_p[:, 4].mean()),
    }
    prog = {tuple(bar[0] for bar in generate(dec, z_dim, 0.5, 0.5, 1000 + s)[1][:4])
            for s in range(100)}
    train_windows = set()
    for _, b in train:
        train_windows |= melody_windows(b)
    copies = [max((sum(t >= 2 for t in w) for w in melody_windows(b) & train_windows),
                  default=-1) for _, b in gen]
    coherence = same_seed_agreement(gen)
    result = {
        "generated_phrases": len(gen), "bars_per_phrase": BARS, "temperature": TEMPERATURE,
        "knob_grid": GRID, "seeds_per_cell": SEEDS,
        **{k: float(v) for k, v in ctrl.items()}, **per_knob,
        "chord_tone_ratio_generated": chord_tone_ratio(gen),
        "chord_tone_ratio_test": chord_tone_ratio(test),
        "pc_entropy_generated_bits": pc_entropy(gen), "pc_entropy_test_bits": pc_entropy(test),
        "onset_density_overlap": overlap(onset_hist(gen), onset_hist(test)),
        "interval_overlap": overlap(interval_hist(gen), interval_hist(test)),
        "degenerate_rate": sum(r is not None for r in reasons) / len(gen),
        "degenerate_by_reason": {r: reasons.count(r) for r in set(reasons) if r},
        "degenerate_by_energy_knob": [sum(1 for r, row in zip(reasons, rows)
                                          if r and row[0] == g) for g in GRID],
        "max_redraws": MAX_REDRAWS,
        "degenerate_rate_after_redraws": sum(r is not None for r in after) / len(gen),
        "degenerate_after_redraws_by_reason": {r: after.count(r) for r in set(after) if r},
        "top_p_0_9": top_p_09,
        "distinct_4bar_progressions_in_100_seeds": len(prog),
        "phrases_with_a_4bar_melody_copied_from_training": sum(c >= 0 for c in copies),
        "phrases_with_a_copied_4bar_melody_of_4_or_more_onsets": sum(c >= 4 for c in copies),
        **coherence,
        "test_phrases_8bar": len(test),
        "ort_ms_per_8bar_phrase_incl_mode": per_phrase_ms,
        "test_teacher_forced": test_recon(args.work, args.checkpoint),
    }
    (args.work / "eval.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
