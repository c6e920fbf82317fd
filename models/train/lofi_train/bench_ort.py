"""onnxruntime timing of the decoder loop, one thread: `python -m lofi_train.bench_ort [models
dir] [runs]`.

The same loop as the onnxruntime part of `benches/decoder.rs`: load both sessions (median of
5), then one bar call (a 1-bar phrase, mode fixed) and an 8-bar phrase (mode graph + 8 bar
calls), fresh random inputs each time, 20 warm-up runs. `top_p` is 1.0 and `rhythm` all -1
(`--top-p` changes the former; `--bar-file lofi_loom_bar_plain.onnx` times the plain graph,
which has no `top_p`; `--bar-file lofi_loom_bar_plain_k8.onnx` decodes 8 phrases per call,
with the mode graph run once per phrase). Prints one line:
`load_ms bar_median_us bar_min_us phrase_median_us phrase_min_us`.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort


def main():
    here = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("models", nargs="?", type=Path, default=here)
    ap.add_argument("runs", nargs="?", type=int, default=300)
    ap.add_argument("--top-p", type=float, default=1.0)
    ap.add_argument("--bar-file", default="lofi_loom_bar.onnx")
    args = ap.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    loads = []
    for _ in range(5):
        t = time.perf_counter()
        bar = ort.InferenceSession(str(args.models / args.bar_file), so,
                                   providers=["CPUExecutionProvider"])
        mode = ort.InferenceSession(str(args.models / "lofi_loom_mode.onnx"), so,
                                    providers=["CPUExecutionProvider"])
        loads.append(time.perf_counter() - t)
    hidden = bar.get_inputs()[5].shape[1]
    zdim = bar.get_inputs()[0].shape[1]
    batch = bar.get_inputs()[0].shape[0]
    rng = np.random.default_rng(0)
    takes_top_p = any(x.name == "top_p" for x in bar.get_inputs())

    def f(x):
        return np.full(batch, x, np.float32)

    def i(x):
        return np.full(batch, x, np.int64)

    rhythm = np.full((batch, 8), -1, np.int64)

    def phrase(n_bars, sample_mode):
        z = rng.standard_normal((batch, zdim)).astype(np.float32)
        e, v, t = f(0.5), f(0.5), f(1.0)
        m = np.zeros(batch, np.int64)
        if sample_mode:
            for row in range(batch):
                out = mode.run(None, {"z": z[row:row + 1], "energy": e[:1], "valence": v[:1],
                                      "temperature": t[:1],
                                      "uniform": rng.random((1, 1), dtype=np.float32)})
                m[row] = int(out[0][0])
        state = np.zeros((batch, hidden), np.float32)
        toks = []
        for b in range(n_bars):
            feed = {"z": z, "energy": e, "valence": v, "mode": m, "bar_index": i(b),
                    "state": state, "uniforms": rng.random((batch, 9), dtype=np.float32),
                    "temperature": t, "forced_chord": i(-1), "rhythm": rhythm}
            if takes_top_p:
                feed["top_p"] = f(args.top_p)
            tk, state = bar.run(None, feed)
            toks.append(tk)
        return toks

    def timed(n_bars, sample_mode):
        for _ in range(20):
            phrase(n_bars, sample_mode)
        ts = []
        for _ in range(args.runs):
            t = time.perf_counter()
            phrase(n_bars, sample_mode)
            ts.append(time.perf_counter() - t)
        return [float(np.median(ts)) * 1e6, float(np.min(ts)) * 1e6]

    print(np.median(loads) * 1e3, *timed(1, False), *timed(8, True))


if __name__ == "__main__":
    main()
