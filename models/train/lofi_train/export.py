"""Exports the decoder as two ONNX graphs and checks them with onnxruntime.

* `models/lofi_loom_bar.onnx` decodes ONE WHOLE BAR per call (chord + 8 melody steps,
  unrolled), sampling inside the graph by inverse CDF against uniforms drawn by the caller.
* `models/lofi_loom_mode.onnx` picks the mode from (z, energy, valence).

Both use only MatMul/Gemm, Add/Mul/Sub/Div, Tanh/Sigmoid, Softmax, CumSum, GreaterOrEqual,
Less, Cast (to float only), ArgMax, Gather, Concat, Slice, Where, Unsqueeze; legacy TorchScript exporter, opset 17,
batch 1, no dynamic axes. `python -m lofi_train.export [--checkpoint work/model.pt]`.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from . import vocab as V
from .model import Config, LofiVAE, N_MODES

OPSET = 17
BAR_FILE = "lofi_loom_bar.onnx"
MODE_FILE = "lofi_loom_mode.onnx"


def inverse_cdf(logits, temperature, u):
    """Token i with cdf[i-1] <= u < cdf[i] of softmax(logits / T), clamped to the last token.

    Computed as ArgMax of the mask (cdf >= u) with the last entry forced to 1 (ArgMax returns
    the first maximum), i.e. the number of entries with cdf < u, at most V - 1. ArgMax gives
    int64 directly: tract-onnx reads every ONNX Cast-to-int64 as a symbolic-dimension type
    (TDim), so the graphs avoid casts to int64 and int64 arithmetic altogether.
    """
    probs = torch.softmax(logits / temperature, dim=1)
    cdf = torch.cumsum(probs, dim=1)
    mask = (cdf[:, :-1] >= u).to(torch.float32)
    mask = torch.cat([mask, torch.ones(1, 1)], dim=1)
    return torch.argmax(mask, dim=1)


class BarStep(nn.Module):
    """One bar of decoding with an unrolled GRU cell."""

    def __init__(self, model: LofiVAE):
        super().__init__()
        d = model.decoder
        h = d.cfg.hidden
        self.hidden = h
        # Buffers become shared initializers: each weight is stored once in the file however
        # often the unrolled steps use it.
        weights = {
            "emb": d.emb.weight[:V.CHORD_VOCAB], "emb_melody": d.emb.weight[V.CHORD_VOCAB:],
            "pos": d.pos_emb.weight, "bar": d.bar_emb.weight,
            "chord": d.chord_emb.weight, "eye": torch.eye(N_MODES),
            "wc": d.cond_in.weight.T, "bc": d.cond_in.bias,
            "w0": d.h0.weight.T, "b0": d.h0.bias,
            "w_ih": d.gru.weight_ih_l0.T, "w_hh": d.gru.weight_hh_l0.T,  # [in, 3H]: r, z, n
            "b_ih": d.gru.bias_ih_l0, "b_hh": d.gru.bias_hh_l0,
            "wch": d.chord_head.weight.T, "bch": d.chord_head.bias,
            "wme": d.melody_head.weight.T, "bme": d.melody_head.bias,
        }
        for name, w in weights.items():
            self.register_buffer(name, w.detach().clone().contiguous())

    def cell(self, x, h):
        gi = x @ self.w_ih + self.b_ih
        gh = h @ self.w_hh + self.b_hh
        H = self.hidden
        r = torch.sigmoid(gi[:, :H] + gh[:, :H])
        z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return (1 - z) * n + z * h

    def forward(self, z, energy, valence, mode, bar_index, state, uniforms, temperature,
                forced_chord):
        onehot = torch.index_select(self.eye, 0, mode)
        c = torch.cat([z, energy[:, None], valence[:, None], onehot], dim=1)
        cproj = c @ self.wc + self.bc
        h0 = torch.tanh(c @ self.w0 + self.b0)
        h = torch.where(bar_index[:, None] < 1, h0, state)
        base = cproj + torch.index_select(self.bar, 0, bar_index)
        chord_logits = h @ self.wch + self.bch
        sampled = inverse_cdf(chord_logits, temperature, uniforms[:, 0:1])
        chord = torch.where(forced_chord < 0, sampled, forced_chord)
        base = base + torch.index_select(self.chord, 0, chord)
        x = torch.index_select(self.emb, 0, chord) + self.pos[0:1] + base
        h = self.cell(x, h)
        out = [chord]
        for k in range(1, V.TOKENS_PER_BAR):
            logits = h @ self.wme + self.bme
            tok = inverse_cdf(logits, temperature, uniforms[:, k:k + 1])
            out.append(tok)
            x = torch.index_select(self.emb_melody, 0, tok) + self.pos[k:k + 1] + base
            h = self.cell(x, h)
        return torch.stack(out, dim=1), h


class ModeStep(nn.Module):
    """Mode choice: probabilities and an inverse-CDF sample."""

    def __init__(self, model: LofiVAE):
        super().__init__()
        self.head = model.mode_head

    def forward(self, z, energy, valence, temperature, uniform):
        logits = self.head(z, energy, valence)
        probs = torch.softmax(logits / temperature, dim=1)
        return inverse_cdf(logits, temperature, uniform), probs


def example_inputs(cfg: Config):
    """Named example inputs of the bar graph (batch 1)."""
    return {
        "z": torch.zeros(1, cfg.z_dim), "energy": torch.tensor([0.5]),
        "valence": torch.tensor([0.5]), "mode": torch.tensor([0], dtype=torch.int64),
        "bar_index": torch.tensor([0], dtype=torch.int64),
        "state": torch.zeros(1, cfg.hidden), "uniforms": torch.full((1, 9), 0.5),
        "temperature": torch.tensor([1.0]),
        "forced_chord": torch.tensor([-1], dtype=torch.int64),
    }


def load_model(path: Path) -> LofiVAE:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = LofiVAE(Config(**ckpt["config"]))
    model.load_state_dict(ckpt["state"])
    model.eval()
    return model


def export(model: LofiVAE, out_dir: Path):
    """Writes both graphs; returns their paths."""
    cfg = model.cfg
    bar = BarStep(model).eval()
    ex = example_inputs(cfg)
    bar_path = out_dir / BAR_FILE
    torch.onnx.export(bar, tuple(ex.values()), str(bar_path), input_names=list(ex),
                      output_names=["tokens", "state_out"], opset_version=OPSET,
                      dynamo=False, do_constant_folding=True)
    mode = ModeStep(model).eval()
    mex = (ex["z"], ex["energy"], ex["valence"], ex["temperature"], torch.full((1, 1), 0.5))
    mode_path = out_dir / MODE_FILE
    torch.onnx.export(mode, mex, str(mode_path),
                      input_names=["z", "energy", "valence", "temperature", "uniform"],
                      output_names=["mode", "mode_probs"], opset_version=OPSET,
                      dynamo=False, do_constant_folding=True)
    return bar_path, mode_path


class OrtDecoder:
    """Runs the exported graphs with onnxruntime: the reference loop Rust reproduces."""

    def __init__(self, models_dir: Path):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        self.bar = ort.InferenceSession(str(models_dir / BAR_FILE), so,
                                        providers=["CPUExecutionProvider"])
        self.mode = ort.InferenceSession(str(models_dir / MODE_FILE), so,
                                         providers=["CPUExecutionProvider"])
        self.hidden = self.bar.get_inputs()[5].shape[1]

    def choose_mode(self, z, energy, valence, temperature, u):
        mode, probs = self.mode.run(None, {
            "z": np.asarray(z, np.float32).reshape(1, -1),
            "energy": np.array([energy], np.float32), "valence": np.array([valence], np.float32),
            "temperature": np.array([temperature], np.float32),
            "uniform": np.array([[u]], np.float32)})
        return int(mode[0]), probs[0]

    def phrase(self, z, energy, valence, mode, n_bars, uniforms, temperature,
               forced_chords=None):
        """Token bars of one phrase; `uniforms` is [n_bars, 9]."""
        state = np.zeros((1, self.hidden), np.float32)
        bars = []
        for b in range(n_bars):
            forced = -1 if forced_chords is None else forced_chords[b]
            tokens, state = self.bar.run(None, {
                "z": np.asarray(z, np.float32).reshape(1, -1),
                "energy": np.array([energy], np.float32),
                "valence": np.array([valence], np.float32),
                "mode": np.array([mode], np.int64), "bar_index": np.array([b], np.int64),
                "state": state, "uniforms": np.asarray(uniforms[b], np.float32).reshape(1, 9),
                "temperature": np.array([temperature], np.float32),
                "forced_chord": np.array([forced], np.int64)})
            bars.append([int(t) for t in tokens[0]])
        return bars


def check_against_torch(model: LofiVAE, models_dir: Path, trials: int = 20) -> int:
    """Teacher-forced PyTorch logits vs the ONNX sampler, with the same uniforms.

    Returns the number of tokens (out of trials * 72) where inverse-CDF sampling of the
    PyTorch logits disagrees with the graph: 0 unless a uniform falls within float
    rounding of a CDF boundary.
    """
    ort_dec = OrtDecoder(models_dir)
    rng = np.random.default_rng(0)
    mismatches = 0
    for _ in range(trials):
        z = rng.standard_normal(model.cfg.z_dim).astype(np.float32)
        e, v, mode = float(rng.random()), float(rng.random()), int(rng.integers(0, 2)) * 5
        u = rng.random((8, 9))
        temp = 0.5 + float(rng.random())
        bars = ort_dec.phrase(z, e, v, mode, 8, u, temp)
        tok = torch.tensor([bars])
        with torch.no_grad():
            c = model.decoder.cond(torch.tensor(z)[None], torch.tensor([e]), torch.tensor([v]),
                                   torch.tensor([mode]))
            cl, ml = model.decoder(tok, c)
        for b in range(8):
            for k in range(9):
                logits = (cl[0, b] if k == 0 else ml[0, b, k - 1]).double() / temp
                cdf = torch.cumsum(torch.softmax(logits, 0), 0).numpy()
                want = min(int(np.sum(cdf < u[b, k])), len(cdf) - 1)
                mismatches += int(want != bars[b][k])
    return mismatches


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--checkpoint", type=Path, default=here / "work" / "model.pt")
    ap.add_argument("--out", type=Path, default=here.parent)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.checkpoint)
    paths = export(model, args.out)
    import onnx
    for p in paths:
        g = onnx.load(str(p))
        onnx.checker.check_model(g)
        ops = sorted({n.op_type for n in g.graph.node})
        print(f"{p.name}: {p.stat().st_size / 1e6:.2f} MB, ops {ops}")
    print("tokens where PyTorch and onnxruntime sampling disagree (of 1440):", check_against_torch(model, args.out))
    meta = {
        "z_dim": model.cfg.z_dim, "hidden": model.cfg.hidden,
        "chord_vocab": V.CHORD_VOCAB, "melody_vocab": V.MELODY_VOCAB,
        "tokens_per_bar": V.TOKENS_PER_BAR, "max_bars": V.MAX_BARS, "opset": OPSET,
        "bar_graph": BAR_FILE, "mode_graph": MODE_FILE,
        "descriptor_table": "lofi_loom_descriptors.json",
    }
    (args.out / "lofi_loom_model.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
