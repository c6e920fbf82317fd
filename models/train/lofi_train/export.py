"""Exports the decoder as two ONNX graphs and checks them with onnxruntime.

* `models/lofi_loom_bar.onnx` decodes ONE WHOLE BAR per call (chord + 8 melody steps,
  unrolled), sampling inside the graph by inverse CDF against uniforms drawn by the caller.
* `models/lofi_loom_bar_plain.onnx` is the same bar graph with the plain inverse-CDF sampler
  and none of the top-p machinery: token for token what the bar graph gives at top_p = 1,
  with fewer ops. Lofi Loom runs it whenever
  top_p is 1, which is the plugin's setting. It has no `top_p` input.
* `models/lofi_loom_bar_plain_k8.onnx` is the plain bar graph with a batch of 8: one call
  decodes a bar of 8 phrases (candidates), each row exactly what the plain graph gives it.
* `models/lofi_loom_mode.onnx` picks the mode from (z, energy, valence).

The bar graph also samples with a top-p nucleus (`top_p`) and can force the rhythm class
of each melody step (`rhythm`); see `nucleus_inverse_cdf` and `BarStep`. No Cast to int64
and no int64 arithmetic (see `inverse_cdf`); legacy TorchScript exporter, opset 17, batch 1,
no dynamic axes; the ops are listed when the export runs.

    python -m lofi_train.export [--checkpoint work/model.pt]
    python -m lofi_train.export --from-onnx      # only the plain graphs, from the bar graph's
                                                 # own weights (no checkpoint needed)
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
BAR_PLAIN_FILE = "lofi_loom_bar_plain.onnx"
# The plain bar graph for CANDIDATES phrases at once (batch dimension CANDIDATES).
CANDIDATES = 8
BAR_CANDIDATES_FILE = "lofi_loom_bar_plain_k8.onnx"
MODE_FILE = "lofi_loom_mode.onnx"


def inverse_cdf(logits, temperature, u):
    """Token i with cdf[i-1] <= u < cdf[i] of softmax(logits / T), clamped to the last token.

    Computed as ArgMax of the mask (cdf >= u) with the last entry forced to 1 (ArgMax returns
    the first maximum), i.e. the number of entries with cdf < u, at most V - 1. ArgMax gives
    int64 directly: tract-onnx reads every ONNX Cast-to-int64 as a symbolic-dimension type
    (TDim), so the graphs avoid casts to int64 and int64 arithmetic altogether. Used by the
    mode graph; the bar graph uses `nucleus_inverse_cdf`.
    """
    probs = torch.softmax(logits / temperature, dim=1)
    cdf = torch.cumsum(probs, dim=1)
    mask = (cdf[:, :-1] >= u).to(torch.float32)
    mask = torch.cat([mask, torch.ones(1, 1)], dim=1)
    return torch.argmax(mask, dim=1)


# Smallest uniform the samplers use: u = 0 then picks the first token with non-zero
# probability instead of token 0 whatever its probability.
U_MIN = 1e-30
# Additive logit mask of the tokens a rhythm constraint forbids (finite: no inf arithmetic;
# after softmax their probability is exactly 0).
MASKED = -1e9
# `top_p` at or above 1 is replaced by this, so every token is kept.
TOP_P_OFF = 3.0


class ExclusiveCumsum(torch.autograd.Function):
    """Sum of the entries before each one along axis 1 (0 for the first): one ONNX
    CumSum with exclusive = 1 instead of CumSum and Sub."""

    @staticmethod
    def forward(ctx, x):
        return torch.cat([torch.zeros_like(x[:, :1]), torch.cumsum(x, dim=1)[:, :-1]], dim=1)

    @staticmethod
    def symbolic(g, x):
        axis = g.op("Constant", value_t=torch.tensor(1, dtype=torch.int64))
        return g.op("CumSum", x, axis, exclusive_i=1)


def nucleus_inverse_cdf(logits, temperature, u, top_p_eff, keep_all):
    """Inverse-CDF sample of softmax(logits / T) restricted to the top-p nucleus.

    The nucleus is found on the probabilities sorted in descending order (TopK with k = V):
    an entry is kept when the mass of the entries before it is < top_p (the first always is),
    and the smallest kept probability is the threshold. The kept tokens are those with
    probability >= threshold (ties at the cut are kept), taken in their ORIGINAL order; the
    token is the first index whose cumulative kept mass reaches u * kept mass (the last index
    if none does). With `keep_all` (top_p >= 1) every token is kept and u is not rescaled, so
    the result is exactly the plain inverse CDF (`inverse_cdf`); keeping the original order
    also means that lowering top_p only changes tokens whose u fell in the cut tail. `u` must
    already be at least U_MIN. Only the sorted values are used (no index arithmetic); ArgMax
    gives the int64 token.
    """
    probs = torch.softmax(logits / temperature, dim=1)
    n = probs.shape[1]
    sorted_p = torch.topk(probs, n, dim=1).values
    before = ExclusiveCumsum.apply(sorted_p)
    threshold = torch.amin(torch.where(before < top_p_eff, sorted_p, 2.0), dim=1, keepdim=True)
    kept = torch.where(probs >= threshold, probs, 0.0)
    cdf = torch.cumsum(kept, dim=1)
    u = torch.where(keep_all, u, u * cdf[:, -1:])
    last = torch.arange(n)[None] == n - 1  # a constant: the last index is the fallback
    return torch.argmax(((cdf >= u) | last).to(torch.float32), dim=1)


def plain_inverse_cdf(logits, temperature, u):
    """`nucleus_inverse_cdf` with `keep_all`, without the nucleus: token for token the same.

    With keep_all the threshold is the smallest probability, so `kept` selects every entry of
    `probs` (a Where that picks the same float32 values), its CumSum is the CumSum of
    `probs`, and u is used unscaled: the same comparison on the same numbers. What is left
    is Softmax, CumSum, GreaterOrEqual, Or with the constant last-index mask, Cast and
    ArgMax, against the TopK, the exclusive CumSum, Less, two Wheres, ReduceMin, Mul and the
    second GreaterOrEqual of the nucleus.
    """
    probs = torch.softmax(logits / temperature, dim=1)
    n = probs.shape[1]
    cdf = torch.cumsum(probs, dim=1)
    last = torch.arange(n)[None] == n - 1
    return torch.argmax(((cdf >= u) | last).to(torch.float32), dim=1)


def melody_classes() -> torch.Tensor:
    """Rhythm class of each melody token: 0 Rest, 1 Hold, 2 Note (as in the `rhythm` input)."""
    cls = torch.full((V.MELODY_VOCAB,), 2.0)
    cls[V.REST], cls[V.HOLD] = 0.0, 1.0
    return cls


class BarStep(nn.Module):
    """One bar of decoding with an unrolled GRU cell, the input projection folded away.

    The GRU input of a step is W_ih x + b_ih with
    x = emb[token] + pos[k] + bar[b] + chord[c] + W_c cond + b_c. It is linear in each term,
    so every embedding table is multiplied by W_ih at export (tables of 3H gate inputs) and
    the condition's part, W_ih W_c cond, is one matrix product per call. A step's input
    projection is then a Gather and two Adds. The constant terms (W_ih b_c, b_ih and the
    r/z half of b_hh, which only ever appears summed with them) are folded into the bar
    table; the n gate's b_hh is the bias of the recurrent product, inside r * (W_hn h + b_hn).
    """

    def __init__(self, weights: dict, plain: bool = False, batch: int = 1):
        """`weights` as made by `folded_weights` (float32 tensors by name); `plain` exports
        the plain sampler (the graph for top_p = 1); `batch` rows decode independently in
        one call (every input gets it as its first dimension)."""
        super().__init__()
        self.hidden = weights["w_hh"].shape[0]
        self.plain = plain
        self.batch = batch
        # Buffers become shared initializers: each weight is stored once in the file however
        # often the unrolled steps use it.
        for name, w in weights.items():
            self.register_buffer(name, w.to(torch.float32).contiguous())
        self.register_buffer("classes", melody_classes())

    @staticmethod
    def folded_weights(model: LofiVAE) -> dict:
        """The trained decoder's weights with the input projection folded in (class docs)."""
        d = model.decoder
        H = d.cfg.hidden
        f64 = lambda t: t.detach().double()  # noqa: E731  (fold in float64, store float32)
        w_ih = f64(d.gru.weight_ih_l0).T  # [E, 3H]: r, z, n
        b_hh = f64(d.gru.bias_hh_l0)
        const = (f64(d.cond_in.bias) @ w_ih + f64(d.gru.bias_ih_l0)
                 + torch.cat([b_hh[:2 * H], torch.zeros(H, dtype=torch.float64)]))
        emb = f64(d.emb.weight) @ w_ih
        pos = f64(d.pos_emb.weight) @ w_ih
        weights = {
            # chord step: emb[chord] + pos[0]; melody steps: emb[token], pos[k] separately
            "chord_tok": emb[:V.CHORD_VOCAB] + pos[0:1], "melody_tok": emb[V.CHORD_VOCAB:],
            "pos": pos, "bar": f64(d.bar_emb.weight) @ w_ih + const,
            "chord": f64(d.chord_emb.weight) @ w_ih, "eye": torch.eye(N_MODES),
            # condition -> [W_ih W_c c (3H) | W_0 c (H)], bias [0 | b_0]
            "wcond": torch.cat([f64(d.cond_in.weight).T @ w_ih, f64(d.h0.weight).T], dim=1),
            "bcond": torch.cat([torch.zeros(3 * H, dtype=torch.float64), f64(d.h0.bias)]),
            "w_hh": f64(d.gru.weight_hh_l0).T,
            "b_hh": torch.cat([torch.zeros(2 * H, dtype=torch.float64), b_hh[2 * H:]]),
            "wch": f64(d.chord_head.weight).T, "bch": f64(d.chord_head.bias),
            "wme": f64(d.melody_head.weight).T, "bme": f64(d.melody_head.bias),
        }
        return {name: w.to(torch.float32) for name, w in weights.items()}

    @staticmethod
    def weights_of_graph(path: Path) -> dict:
        """The folded weights read back from an exported bar graph (float32, exactly as
        stored). The graph keeps every table under its name except `pos`, whose rows 1–8
        were folded into one constant per melody step (the first eight unnamed [1, 3H]
        initializers, in step order) and whose row 0 lives inside `chord_tok`; row 0 is
        therefore zero here, which the graph never reads."""
        import onnx
        from onnx import numpy_helper
        g = onnx.load(str(path)).graph
        arrays = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        names = ["chord_tok", "melody_tok", "bar", "chord", "eye", "wcond", "bcond", "w_hh",
                 "b_hh", "wch", "bch", "wme", "bme"]
        weights = {n: torch.from_numpy(arrays[n].copy()) for n in names}
        width = weights["w_hh"].shape[1]
        steps = [a for name, a in arrays.items()
                 if name.startswith("onnx::") and a.shape == (1, width)]
        assert len(steps) == V.TOKENS_PER_BAR - 1, f"{len(steps)} step constants"
        pos = np.zeros((V.TOKENS_PER_BAR, width), np.float32)
        for k, row in enumerate(steps, start=1):
            pos[k] = row[0]
        weights["pos"] = torch.from_numpy(pos)
        return weights

    def sample(self, logits, temperature, u, top_p_eff, keep_all):
        if self.batch > 1:
            temperature = temperature[:, None]  # [B, 1]: one per row
        if self.plain:
            return plain_inverse_cdf(logits, temperature, u)
        return nucleus_inverse_cdf(logits, temperature, u, top_p_eff, keep_all)

    def cell(self, gi, h):
        """GRU cell from the gate inputs gi = W_ih x + b_ih + [b_hr, b_hz, 0]."""
        H = self.hidden
        gh = h @ self.w_hh + self.b_hh  # [W_hr h, W_hz h, W_hn h + b_hn]
        rz = torch.sigmoid((gi + gh)[:, :2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return n + z * (h - n)

    def forward(self, z, energy, valence, mode, bar_index, state, uniforms, temperature,
                forced_chord, top_p, rhythm):
        H = self.hidden
        onehot = torch.index_select(self.eye, 0, mode)
        c = torch.cat([z, energy[:, None], valence[:, None], onehot], dim=1)
        cproj = c @ self.wcond + self.bcond
        h0 = torch.tanh(cproj[:, 3 * H:])
        h = torch.where(bar_index[:, None] < 1, h0, state)
        base = cproj[:, :3 * H] + torch.index_select(self.bar, 0, bar_index)
        # Sampling settings, once per call (the plain sampler needs neither).
        keep_all = top_p[:, None] >= 1.0
        top_p_eff = torch.where(keep_all, TOP_P_OFF, torch.clamp(top_p[:, None], min=U_MIN))
        if self.plain:
            keep_all = top_p_eff = None
        uniforms = torch.clamp(uniforms, min=U_MIN)
        if self.batch == 1:
            r = rhythm.to(torch.float32)[0][:, None]  # [8, 1]
        else:
            r = rhythm.to(torch.float32)[:, :, None]  # [B, 8, 1]: a mask per row
        free = (r < 0) | (r > 2)
        allowed = free | (r == self.classes[None])  # [8, 39]
        melody_bias = self.bme + torch.where(allowed, 0.0, MASKED)  # exactly bme where free

        chord_logits = h @ self.wch + self.bch
        sampled = self.sample(chord_logits, temperature, uniforms[:, 0:1], top_p_eff, keep_all)
        chord = torch.where(forced_chord < 0, sampled, forced_chord)
        base = base + torch.index_select(self.chord, 0, chord)
        h = self.cell(torch.index_select(self.chord_tok, 0, chord) + base, h)
        out = [chord]
        for k in range(1, V.TOKENS_PER_BAR):
            # (The product first, then the slice: the order the batch-1 graphs were traced in.)
            logits = h @ self.wme + (melody_bias[k - 1:k] if self.batch == 1
                                     else melody_bias[:, k - 1])
            tok = self.sample(logits, temperature, uniforms[:, k:k + 1], top_p_eff, keep_all)
            out.append(tok)
            h = self.cell(torch.index_select(self.melody_tok, 0, tok)
                          + (base + self.pos[k:k + 1]), h)
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


def example_inputs(cfg: Config, batch: int = 1):
    """Named example inputs of the bar graph (`batch` rows)."""
    b = batch
    return {
        "z": torch.zeros(b, cfg.z_dim), "energy": torch.full((b,), 0.5),
        "valence": torch.full((b,), 0.5), "mode": torch.zeros(b, dtype=torch.int64),
        "bar_index": torch.zeros(b, dtype=torch.int64),
        "state": torch.zeros(b, cfg.hidden), "uniforms": torch.full((b, 9), 0.5),
        "temperature": torch.ones(b),
        "forced_chord": torch.full((b,), -1, dtype=torch.int64),
        "top_p": torch.ones(b),
        "rhythm": torch.full((b, V.TOKENS_PER_BAR - 1), -1, dtype=torch.int64),
    }


def load_model(path: Path) -> LofiVAE:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = LofiVAE(Config(**ckpt["config"]))
    model.load_state_dict(ckpt["state"])
    model.eval()
    return model


def export_bar(weights: dict, path: Path, plain: bool, batch: int = 1):
    """Writes a bar graph (the nucleus sampler, or the plain one) with `weights`."""
    bar = BarStep(weights, plain=plain, batch=batch).eval()
    z_dim = weights["wcond"].shape[0] - 2 - N_MODES
    hidden = weights["w_hh"].shape[0]
    ex = example_inputs(Config(z_dim=z_dim, hidden=hidden), batch)
    torch.onnx.export(bar, tuple(ex.values()), str(path), input_names=list(ex),
                      output_names=["tokens", "state_out"], opset_version=OPSET,
                      dynamo=False, do_constant_folding=True)


def export(model: LofiVAE, out_dir: Path):
    """Writes the three graphs; returns their paths."""
    cfg = model.cfg
    ex = example_inputs(cfg)
    weights = BarStep.folded_weights(model)
    bar_path = out_dir / BAR_FILE
    export_bar(weights, bar_path, plain=False)
    export_bar(weights, out_dir / BAR_PLAIN_FILE, plain=True)
    export_bar(weights, out_dir / BAR_CANDIDATES_FILE, plain=True, batch=CANDIDATES)
    mode = ModeStep(model).eval()
    mex = (ex["z"], ex["energy"], ex["valence"], ex["temperature"], torch.full((1, 1), 0.5))
    mode_path = out_dir / MODE_FILE
    torch.onnx.export(mode, mex, str(mode_path),
                      input_names=["z", "energy", "valence", "temperature", "uniform"],
                      output_names=["mode", "mode_probs"], opset_version=OPSET,
                      dynamo=False, do_constant_folding=True)
    return bar_path, out_dir / BAR_PLAIN_FILE, out_dir / BAR_CANDIDATES_FILE, mode_path


class OrtDecoder:
    """Runs the exported graphs with onnxruntime: the reference loop Rust reproduces."""

    def __init__(self, models_dir: Path, bar_file: str = BAR_FILE):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        self.bar = ort.InferenceSession(str(models_dir / bar_file), so,
                                        providers=["CPUExecutionProvider"])
        self.mode = ort.InferenceSession(str(models_dir / MODE_FILE), so,
                                         providers=["CPUExecutionProvider"])
        self.hidden = self.bar.get_inputs()[5].shape[1]
        self.bar_inputs = {i.name for i in self.bar.get_inputs()}

    def choose_mode(self, z, energy, valence, temperature, u):
        mode, probs = self.mode.run(None, {
            "z": np.asarray(z, np.float32).reshape(1, -1),
            "energy": np.array([energy], np.float32), "valence": np.array([valence], np.float32),
            "temperature": np.array([temperature], np.float32),
            "uniform": np.array([[u]], np.float32)})
        return int(mode[0]), probs[0]

    def phrase(self, z, energy, valence, mode, n_bars, uniforms, temperature,
               forced_chords=None, top_p=1.0, rhythm=None):
        """Token bars of one phrase; `uniforms` is [n_bars, 9]; `rhythm` is None (all free)
        or [n_bars, 8] of -1 free, 0 Rest, 1 Hold, 2 Note."""
        state = np.zeros((1, self.hidden), np.float32)
        bars = []
        for b in range(n_bars):
            forced = -1 if forced_chords is None else forced_chords[b]
            rh = [-1] * 8 if rhythm is None else rhythm[b]
            feed = {
                "z": np.asarray(z, np.float32).reshape(1, -1),
                "energy": np.array([energy], np.float32),
                "valence": np.array([valence], np.float32),
                "mode": np.array([mode], np.int64), "bar_index": np.array([b], np.int64),
                "state": state, "uniforms": np.asarray(uniforms[b], np.float32).reshape(1, 9),
                "temperature": np.array([temperature], np.float32),
                "forced_chord": np.array([forced], np.int64),
                "top_p": np.array([top_p], np.float32),
                "rhythm": np.asarray(rh, np.int64).reshape(1, 8)}
            if "rhythm" not in self.bar_inputs:  # a graph from before top_p and rhythm
                assert top_p == 1.0 and rhythm is None, "this bar graph has no top_p/rhythm"
            if "top_p" not in self.bar_inputs:  # the plain graph: top_p 1 only
                assert top_p == 1.0, "this bar graph samples with top_p = 1 only"
            feed = {k: x for k, x in feed.items() if k in self.bar_inputs}
            tokens, state = self.bar.run(None, feed)
            bars.append([int(t) for t in tokens[0]])
        return bars


def reference_cdf(logits, temperature, top_p=1.0, rhythm=-1):
    """CDF (float64, ending at 1) that the bar graph's sampler inverts for one step: rhythm
    mask, softmax(logits / T), top-p nucleus kept in the original order, renormalised."""
    logits = np.asarray(logits, np.float64).copy()
    if rhythm in (0, 1, 2):
        cls = melody_classes().numpy()
        logits[cls != rhythm] = -np.inf
    p = np.exp((logits - logits.max()) / temperature)
    p /= p.sum()
    if top_p < 1.0:
        sp = np.sort(p)[::-1]
        before = np.cumsum(sp) - sp
        threshold = sp[before < max(top_p, U_MIN)].min()
        p = np.where(p >= threshold, p, 0.0)
        p /= p.sum()
    return np.cumsum(p)


def nucleus_margin(logits, temperature, top_p, rhythm=-1):
    """Distance of top_p from the nearest sorted 'mass before' value of the masked
    distribution (how far the nucleus cut is from flipping); inf when top_p >= 1."""
    if top_p >= 1.0:
        return np.inf
    logits = np.asarray(logits, np.float64).copy()
    if rhythm in (0, 1, 2):
        logits[melody_classes().numpy() != rhythm] = -np.inf
    p = np.exp((logits - logits.max()) / temperature)
    sp = np.sort(p / p.sum())[::-1]
    return float(np.min(np.abs(np.cumsum(sp) - sp - top_p)))


def reference_token(logits, temperature, u, top_p=1.0, rhythm=-1):
    """The bar graph's sampler in float64 NumPy (see `reference_cdf`)."""
    cdf = reference_cdf(logits, temperature, top_p, rhythm)
    return min(int(np.sum(cdf < max(u, U_MIN))), len(cdf) - 1)


def check_against_torch(model: LofiVAE, models_dir: Path, trials: int = 20) -> int:
    """Teacher-forced PyTorch logits vs the ONNX sampler, with the same uniforms.

    Half of the trials use top_p = 1 and a free rhythm, half a random top_p in [0.5, 1) and a
    random rhythm. Returns the number of tokens (out of trials * 72) where `reference_token`
    on the PyTorch logits disagrees with the graph: 0 unless a uniform falls within float
    rounding of a CDF boundary.
    """
    ort_dec = OrtDecoder(models_dir)
    rng = np.random.default_rng(0)
    mismatches = 0
    for trial in range(trials):
        z = rng.standard_normal(model.cfg.z_dim).astype(np.float32)
        e, v, mode = float(rng.random()), float(rng.random()), int(rng.integers(0, 2)) * 5
        u = rng.random((8, 9))
        temp = 0.5 + float(rng.random())
        if trial % 2:
            top_p = 0.5 + 0.5 * float(rng.random())
            rhythm = rng.integers(-1, 3, (8, 8))
        else:
            top_p, rhythm = 1.0, np.full((8, 8), -1)
        bars = ort_dec.phrase(z, e, v, mode, 8, u, temp, top_p=top_p, rhythm=rhythm)
        tok = torch.tensor([bars])
        with torch.no_grad():
            c = model.decoder.cond(torch.tensor(z)[None], torch.tensor([e]), torch.tensor([v]),
                                   torch.tensor([mode]))
            cl, ml = model.decoder(tok, c)
        for b in range(8):
            for k in range(9):
                logits = (cl[0, b] if k == 0 else ml[0, b, k - 1]).double().numpy()
                want = reference_token(logits, temp, u[b, k], top_p,
                                       -1 if k == 0 else int(rhythm[b, k - 1]))
                mismatches += int(want != bars[b][k])
    return mismatches


def check_plain(models_dir: Path, trials: int = 200) -> int:
    """Phrases of the plain bar graph vs the bar graph at top_p = 1 in onnxruntime, with
    random z, knobs, temperatures, uniforms and rhythms (a quarter of them all free). Returns
    the number of tokens that differ (of trials * 72): 0, since the samplers are the same
    arithmetic (`plain_inverse_cdf`)."""
    full, plain = OrtDecoder(models_dir), OrtDecoder(models_dir, BAR_PLAIN_FILE)
    rng = np.random.default_rng(7)
    differ = 0
    for trial in range(trials):
        z = rng.standard_normal(full.bar.get_inputs()[0].shape[1]).astype(np.float32)
        e, v, mode = float(rng.random()), float(rng.random()), int(rng.integers(0, N_MODES))
        u = rng.random((8, 9))
        u[rng.random((8, 9)) < 0.05] = 0.0  # the clamp at U_MIN
        temp = 0.3 + 1.2 * float(rng.random())
        rhythm = None if trial % 4 == 0 else rng.integers(-1, 3, (8, 8))
        forced = None if trial % 3 else list(rng.integers(-1, V.CHORD_VOCAB, 8))
        a = full.phrase(z, e, v, mode, 8, u, temp, forced, 1.0, rhythm)
        b = plain.phrase(z, e, v, mode, 8, u, temp, forced, 1.0, rhythm)
        differ += sum(x != y for ra, rb in zip(a, b) for x, y in zip(ra, rb))
    return differ


def check_batch(models_dir: Path, trials: int = 100) -> int:
    """Phrases of the batched plain graph vs the plain graph row by row in onnxruntime, with
    random inputs that differ per row (z, knobs, mode, temperature, uniforms, rhythms, forced
    chords). Returns the number of tokens that differ (of trials * 8 rows * 72): 0 expected,
    each row being the same arithmetic."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    one = ort.InferenceSession(str(models_dir / BAR_PLAIN_FILE), so,
                               providers=["CPUExecutionProvider"])
    many = ort.InferenceSession(str(models_dir / BAR_CANDIDATES_FILE), so,
                                providers=["CPUExecutionProvider"])
    k = CANDIDATES
    z_dim, hidden = one.get_inputs()[0].shape[1], one.get_inputs()[5].shape[1]
    rng = np.random.default_rng(3)
    differ = 0
    for trial in range(trials):
        rows = {
            "z": rng.standard_normal((k, z_dim)).astype(np.float32),
            "energy": rng.random(k).astype(np.float32),
            "valence": rng.random(k).astype(np.float32),
            "mode": rng.integers(0, N_MODES, k).astype(np.int64),
            "temperature": (0.3 + rng.random(k)).astype(np.float32),
            "forced_chord": np.where(rng.random(k) < 0.3, rng.integers(0, V.CHORD_VOCAB, k),
                                     -1).astype(np.int64),
            "rhythm": (rng.integers(-1, 3, (k, 8)) if trial % 2
                       else np.full((k, 8), -1)).astype(np.int64),
        }
        states = [np.zeros((1, hidden), np.float32) for _ in range(k)]
        state = np.zeros((k, hidden), np.float32)
        for b in range(V.MAX_BARS):
            feed = dict(rows, bar_index=np.full(k, b, np.int64), state=state,
                        uniforms=rng.random((k, 9)).astype(np.float32))
            tokens, state = many.run(None, feed)
            for i in range(k):
                row = {name: x[i:i + 1] for name, x in feed.items()}
                row["state"] = states[i]
                t, states[i] = one.run(None, row)
                differ += int((t[0] != tokens[i]).sum())
    return differ


def same_graph(a: Path, b: Path) -> bool:
    """Whether two ONNX files hold the same nodes and initializers (names, ops, attributes,
    values), whatever the producer's metadata."""
    import onnx
    ga, gb = onnx.load(str(a)).graph, onnx.load(str(b)).graph
    return (list(ga.node) == list(gb.node) and list(ga.initializer) == list(gb.initializer)
            and list(ga.input) == list(gb.input) and list(ga.output) == list(gb.output))


def describe(paths):
    import onnx
    for p in paths:
        g = onnx.load(str(p))
        onnx.checker.check_model(g)
        ops = sorted({n.op_type for n in g.graph.node})
        print(f"{p.name}: {p.stat().st_size / 1e6:.2f} MB, {len(g.graph.node)} nodes, ops {ops}")


def plain_from_onnx(out: Path):
    """Writes the plain bar graph from the committed bar graph's own weights, after checking
    that those weights re-export the committed bar graph exactly."""
    import tempfile
    weights = BarStep.weights_of_graph(out / BAR_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        again = Path(tmp) / BAR_FILE
        export_bar(weights, again, plain=False)
        assert same_graph(again, out / BAR_FILE), "the weights read back do not re-export the bar graph"
    print(f"{BAR_FILE}: its weights read back re-export it node for node and value for value")
    export_bar(weights, out / BAR_PLAIN_FILE, plain=True)
    export_bar(weights, out / BAR_CANDIDATES_FILE, plain=True, batch=CANDIDATES)
    describe([out / BAR_FILE, out / BAR_PLAIN_FILE, out / BAR_CANDIDATES_FILE])
    print("tokens where the plain and the nucleus graph differ at top_p = 1 (of 14400):",
          check_plain(out))
    print("tokens where a row of the batched graph and the plain graph differ (of 57600):",
          check_batch(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--checkpoint", type=Path, default=here / "work" / "model.pt")
    ap.add_argument("--out", type=Path, default=here.parent)
    ap.add_argument("--from-onnx", action="store_true",
                    help="only write the plain bar graph, from the bar graph's weights")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.from_onnx:
        plain_from_onnx(args.out)
        return
    model = load_model(args.checkpoint)
    paths = export(model, args.out)
    import onnx
    for p in paths:
        g = onnx.load(str(p))
        onnx.checker.check_model(g)
        ops = sorted({n.op_type for n in g.graph.node})
        print(f"{p.name}: {p.stat().st_size / 1e6:.2f} MB, ops {ops}")
    print("tokens where PyTorch and onnxruntime sampling disagree (of 1440):", check_against_torch(model, args.out))
    print("tokens where the plain and the nucleus graph differ at top_p = 1 (of 14400):",
          check_plain(args.out))
    print("tokens where a row of the batched graph and the plain graph differ (of 57600):",
          check_batch(args.out))
    meta = {
        "z_dim": model.cfg.z_dim, "hidden": model.cfg.hidden,
        "chord_vocab": V.CHORD_VOCAB, "melody_vocab": V.MELODY_VOCAB,
        "tokens_per_bar": V.TOKENS_PER_BAR, "max_bars": V.MAX_BARS, "opset": OPSET,
        "bar_graph": BAR_FILE, "bar_plain_graph": BAR_PLAIN_FILE,
        "bar_candidates_graph": BAR_CANDIDATES_FILE, "candidates": CANDIDATES, "mode_graph": MODE_FILE,
        "descriptor_table": "lofi_loom_descriptors.json",
    }
    (args.out / "lofi_loom_model.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
