"""Writes models/fixtures/parity.json: explicit inputs -> exact tokens from onnxruntime.

`python -m lofi_train.parity`. Every input is written out (z vector, knobs, temperature,
the uniforms for the mode graph and for every bar, top_p and the rhythm classes), so the
fixture does not depend on any random number generator. The cases cover top_p = 1 with a
free rhythm (the plain sampler), top_p < 1, a locked rhythm over locked chords and a mixed
rhythm. Uniforms that land within MARGIN of a CDF boundary (where float rounding
differences between runtimes could flip a token) are moved to the middle of the same
token's interval, so the expected tokens are robust; a top-p case also asserts that top_p
is at least NUCLEUS_MARGIN away from every step's nucleus cut."""

import json
from pathlib import Path

import numpy as np
import torch

from . import vocab as V
from .export import OrtDecoder, load_model, nucleus_margin, reference_cdf

MARGIN = 1e-3

# Rhythm classes per melody step: -1 free, 0 Rest, 1 Hold, 2 Note.
LOCKED_RHYTHM = [[2, 1, 2, 0, 2, 2, 1, 1], [2, 1, 1, 1, 0, 0, 2, 0],
                 [0, 2, 2, 1, 2, 1, 2, 2], [2, 1, 1, 1, 1, 1, 0, 0]]
MIXED_RHYTHM = [[-1, -1, 0, 0, -1, -1, 2, -1], [1, -1, -1, 2, 2, -1, 0, -1]] * 4

CASES = [
    # name, z pattern, energy, valence, temperature, forced chords, n bars, top_p, rhythm
    ("zero_z_mid_knobs", "zeros", 0.5, 0.5, 1.0, None, 8, 1.0, None),
    ("low_energy_low_valence", "sin", 0.1, 0.1, 1.0, None, 8, 1.0, None),
    ("high_energy_high_valence", "cos", 0.9, 0.9, 1.0, None, 8, 1.0, None),
    ("cool_temperature", "alt", 0.3, 0.8, 0.5, None, 4, 1.0, None),
    # Locked chords: i7, iv7, (sampled), v7 as tokens (degree, shift, quality index 5 = Minor7).
    ("forced_chords", "sin", 0.6, 0.4, 1.0,
     [V.chord_token(1, 0, 5), V.chord_token(4, 0, 5), -1, V.chord_token(5, 0, 5)], 4,
     1.0, None),
    ("top_p_0_9", "cos", 0.5, 0.5, 1.0, None, 8, 0.9, None),
    ("top_p_0_5_warm", "sin", 0.7, 0.3, 1.3, None, 4, 0.5, None),
    # A locked rhythm re-pitched over locked chords (I, vi7, IV maj7, V7), with top-p.
    ("locked_rhythm_and_chords", "alt", 0.4, 0.7, 1.0,
     [V.chord_token(1, 0, 0), V.chord_token(6, 0, 5), V.chord_token(4, 0, 4),
      V.chord_token(5, 0, 3)], 4, 0.9, LOCKED_RHYTHM),
    ("mixed_rhythm", "zeros", 0.2, 0.6, 1.0, None, 8, 1.0, MIXED_RHYTHM),
]
# A top-p case's smallest distance between top_p and a sorted 'mass before' value.
NUCLEUS_MARGIN = 1e-4


def z_pattern(name: str, dim: int) -> np.ndarray:
    i = np.arange(dim, dtype=np.float64)
    return {"zeros": np.zeros(dim), "sin": np.sin(i + 1.0), "cos": 1.5 * np.cos(0.7 * i),
            "alt": np.where(i % 2 == 0, 0.8, -0.8)}[name].astype(np.float32)


def uniforms(case_index: int, n_bars: int) -> np.ndarray:
    """Fixed uniforms in (0, 1): a golden-ratio sequence, rounded to float32."""
    k = np.arange(n_bars * 9 + 1, dtype=np.float64) + 1 + 100 * case_index
    return np.mod(k * 0.6180339887498949, 1.0).astype(np.float32)


def teacher_cdfs(model, z, e, v, mode, bars, temperature, top_p, rhythm):
    """Sampler CDFs (float64) of every token position given the emitted tokens, and the
    smallest nucleus margin."""
    tok = torch.tensor([bars + [[-1] * 9] * (8 - len(bars))])
    with torch.no_grad():
        c = model.decoder.cond(torch.tensor(z)[None], torch.tensor([e]), torch.tensor([v]),
                               torch.tensor([mode]))
        cl, ml = model.decoder(tok, c)
    out, margin = [], np.inf
    for b in range(len(bars)):
        row = []
        for k in range(9):
            logits = (cl[0, b] if k == 0 else ml[0, b, k - 1]).double().numpy()
            r = -1 if k == 0 else rhythm[b][k - 1]
            row.append(reference_cdf(logits, temperature, top_p, r))
            margin = min(margin, nucleus_margin(logits, temperature, top_p, r))
        out.append(row)
    return out, margin


def robust(u, cdf, token):
    """u moved to the middle of token's CDF interval if it is within MARGIN of an edge."""
    lo = cdf[token - 1] if token > 0 else 0.0
    hi = cdf[token] if token < len(cdf) - 1 else 1.0
    if min(u - lo, hi - u) < MARGIN:
        return float(np.float32((lo + hi) / 2))
    return float(u)


def run_case(dec, model, i, case):
    name, zp, e, v, temp, forced, n_bars, top_p, rhythm = case
    rhythm = rhythm[:n_bars] if rhythm else [[-1] * 8] * n_bars
    z = z_pattern(zp, model.cfg.z_dim)
    u = uniforms(i, n_bars)
    mode_u = float(u[0])
    bar_u = u[1:].reshape(n_bars, 9).astype(np.float64)
    mode, probs = dec.choose_mode(z, e, v, temp, mode_u)
    cdf = np.cumsum(probs.astype(np.float64))
    mode_u = robust(mode_u, cdf, mode)
    for _ in range(3):  # nudging can only keep tokens, but re-check to be sure
        bars = dec.phrase(z, e, v, mode, n_bars, bar_u, temp, forced, top_p, rhythm)
        cdfs, margin = teacher_cdfs(model, z, e, v, mode, bars, temp, top_p, rhythm)
        assert margin >= NUCLEUS_MARGIN, f"{name}: top_p within {margin} of a nucleus cut"
        new = np.array([[robust(bar_u[b, k], cdfs[b][k], bars[b][k])
                         if not (k == 0 and forced and forced[b] >= 0) else bar_u[b, k]
                         for k in range(9)] for b in range(n_bars)])
        if np.array_equal(new, bar_u):
            break
        bar_u = new
    assert dec.choose_mode(z, e, v, temp, mode_u)[0] == mode
    bars = dec.phrase(z, e, v, mode, n_bars, bar_u, temp, forced, top_p, rhythm)
    return {
        "name": name,
        "z": [float(x) for x in z], "energy": e, "valence": v, "temperature": temp,
        "mode_uniform": mode_u,
        "expected_mode": mode, "expected_mode_probs": [round(float(p), 6) for p in probs],
        "forced_chords": forced if forced else [-1] * n_bars,
        "top_p": top_p, "rhythm": rhythm,
        "uniforms": [[float(np.float32(x)) for x in row] for row in bar_u],
        "expected_tokens": bars,
    }


def main():
    import argparse
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", type=Path, default=here.parent,
                    help="folder with the ONNX files; the fixture goes to <models>/fixtures")
    ap.add_argument("--checkpoint", type=Path, default=here / "work" / "model.pt")
    args = ap.parse_args()
    models = args.models
    torch.set_num_threads(1)
    model = load_model(args.checkpoint)
    dec = OrtDecoder(models)
    cases = [run_case(dec, model, i, c) for i, c in enumerate(CASES)]
    doc = {
        "about": "Lofi Loom decoder parity fixture: explicit inputs and the tokens onnxruntime "
                 "produced with models/lofi_loom_mode.onnx and models/lofi_loom_bar.onnx. "
                 "Call sequence per case: mode graph once (uniform = mode_uniform), then the "
                 "bar graph for bar_index 0..n-1 with state = zeros at bar 0 and the previous "
                 "state_out afterwards, uniforms[bar] (9 values), forced_chord "
                 "forced_chords[bar], top_p [top_p] and rhythm [rhythm[bar]] (8 values). All "
                 "uniforms are at least 1e-3 from a CDF boundary and every top_p at least "
                 "1e-4 from a nucleus cut.",
        "made_by": "models/train/.venv/bin/python -m lofi_train.parity (run in models/train)",
        "cases": cases,
    }
    (models / "fixtures").mkdir(exist_ok=True)
    (models / "fixtures" / "parity.json").write_text(json.dumps(doc, indent=1) + "\n")
    for c in cases:
        print(c["name"], "mode", c["expected_mode"], "chords", [b[0] for b in c["expected_tokens"]])


if __name__ == "__main__":
    main()
