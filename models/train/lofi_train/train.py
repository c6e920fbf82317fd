"""Trains the conditional VAE: `python -m lofi_train.train [--minutes 40]`.

Loss = token cross-entropy (padding masked) + beta * KL with free bits per latent
dimension + mode cross-entropy. Beta ramps from 0 to its maximum over the first tenth of the run
and the learning rate follows a cosine; with --steps the run lasts exactly that many steps
(reproducible), otherwise the schedules follow the time budget. The run also stops at the
time limit; the checkpoint with the best validation loss
is kept in work/model.pt (plus work/last.pt). Seeded; CPU; one thread.
"""

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .model import Config, LofiVAE

BETA_MAX = 0.5
FREE_BITS = 0.15  # nats per latent dimension
BATCH = 128
LR = 2e-3
WEIGHT_DECAY = 0.01
BETA_RAMP = 0.1  # share of the run over which beta rises to its maximum
MODE_WEIGHT = 0.5


def load_split(work: Path, split: int):
    """Tensors of one split (0 train, 1 val, 2 test)."""
    d = np.load(work / "dataset.npz")
    lab = np.load(work / "labels.npz")
    m = d["split"] == split
    return {
        "tokens": torch.from_numpy(d["tokens"][m].astype(np.int64)),
        "n_bars": torch.from_numpy(d["n_bars"][m].astype(np.int64)),
        "mode": torch.from_numpy(d["mode"][m].astype(np.int64)),
        "energy": torch.from_numpy(lab["energy"][m]),
        "valence": torch.from_numpy(lab["valence"][m]),
    }


def losses(model, batch, beta, free_bits=FREE_BITS, prior_z_prob=0.0):
    """(total, dict of parts) for one batch."""
    tok = batch["tokens"]
    chord_logits, mel_logits, mode_logits, mu, logvar = model(
        tok, batch["n_bars"], batch["energy"], batch["valence"], batch["mode"], prior_z_prob)
    chord_t, mel_t = tok[:, :, 0], tok[:, :, 1:]
    ce_c = F.cross_entropy(chord_logits.reshape(-1, chord_logits.shape[-1]),
                           chord_t.reshape(-1), ignore_index=-1, reduction="sum")
    ce_m = F.cross_entropy(mel_logits.reshape(-1, mel_logits.shape[-1]),
                           mel_t.reshape(-1), ignore_index=-1, reduction="sum")
    n_tok = (tok >= 0).sum()
    recon = (ce_c + ce_m) / n_tok
    kl_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean(0)
    kl = kl_dim.sum()
    kl_fb = torch.clamp(kl_dim, min=free_bits).sum()
    bars = batch["n_bars"].sum().float()
    mode_ce = F.cross_entropy(mode_logits, batch["mode"])
    # KL is per phrase; spread it over the phrase's tokens so it is on the recon scale.
    total = recon + beta * kl_fb * tok.shape[0] / n_tok + MODE_WEIGHT * mode_ce
    return total, {"recon": recon.item(), "kl": kl.item(), "mode": mode_ce.item(),
                   "chord_ce": (ce_c / bars).item()}


def evaluate(model, data):
    model.eval()
    """Validation loss (beta = 1, posterior z, fixed noise) and its parts."""
    tot, parts, n = 0.0, {}, 0
    with torch.no_grad():
        torch.manual_seed(0)
        for i in range(0, len(data["tokens"]), 512):
            batch = {k: v[i:i + 512] for k, v in data.items()}
            loss, p = losses(model, batch, 1.0)
            w = len(batch["tokens"])
            tot += loss.item() * w
            for k, v in p.items():
                parts[k] = parts.get(k, 0.0) + v * w
            n += w
    model.train()
    return tot / n, {k: v / n for k, v in parts.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--work", type=Path, default=here / "work")
    ap.add_argument("--minutes", type=float, default=40.0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--beta-max", type=float, default=BETA_MAX)
    ap.add_argument("--free-bits", type=float, default=FREE_BITS)
    ap.add_argument("--prior-z-prob", type=float, default=0.0,
                    help="share of phrases decoded from a prior z during training")
    ap.add_argument("--steps", type=int, default=0,
                    help="train exactly this many steps (schedules follow the step count, so "
                         "the run is reproducible); 0 = schedules follow the time budget")
    ap.add_argument("--tag", default="", help="suffix of the checkpoint/history names")
    args = ap.parse_args()
    torch.set_num_threads(1)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    train, val = load_split(args.work, 0), load_split(args.work, 1)
    cfg = Config()
    model = LofiVAE(cfg)
    n_params = sum(p.numel() for p in model.decoder.parameters())
    print(f"train {len(train['tokens'])} phrases, val {len(val['tokens'])}; "
          f"decoder params {n_params}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    budget = args.minutes * 60
    start = time.time()
    best, step, epoch = math.inf, 0, 0
    history = []
    def progress():
        if args.steps:
            return step / args.steps
        return (time.time() - start) / budget

    while progress() < 1 and time.time() - start < budget:
        perm = torch.randperm(len(train["tokens"]))
        for i in range(0, len(perm) - BATCH + 1, BATCH):
            frac = progress()
            if frac >= 1 or time.time() - start >= budget:
                break
            beta = args.beta_max * min(1.0, frac / BETA_RAMP)
            for group in opt.param_groups:
                group["lr"] = LR * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            idx = perm[i:i + BATCH]
            loss, parts = losses(model, {k: v[idx] for k, v in train.items()}, beta,
                                 args.free_bits, args.prior_z_prob)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 50 == 0:
                print(f"step {step} ep {epoch} t={time.time() - start:.0f}s beta={beta:.2f} "
                      + " ".join(f"{k}={v:.3f}" for k, v in parts.items()), flush=True)
        epoch += 1
        val_loss, vparts = evaluate(model, val)
        history.append({"epoch": epoch, "step": step, "seconds": time.time() - start,
                        "val_loss": val_loss, **{f"val_{k}": v for k, v in vparts.items()}})
        print(f"== epoch {epoch} val {val_loss:.4f} "
              + " ".join(f"{k}={v:.3f}" for k, v in vparts.items()), flush=True)
        ckpt = {"config": vars(cfg), "args": {k: str(v) for k, v in vars(args).items()}, "state": model.state_dict(), "epoch": epoch,
                "history": history}
        torch.save(ckpt, args.work / f"last{args.tag}.pt")
        # Early epochs have a small beta; only compare once the KL weight is at its maximum.
        if progress() >= BETA_RAMP and val_loss < best:
            best = val_loss
            torch.save(ckpt, args.work / f"model{args.tag}.pt")
    if not (args.work / f"model{args.tag}.pt").exists():
        torch.save(ckpt, args.work / f"model{args.tag}.pt")
    (args.work / f"train_history{args.tag}.json").write_text(json.dumps(history, indent=1))
    print(f"done: {epoch} epochs, {step} steps, best val {best:.4f}", flush=True)


if __name__ == "__main__":
    main()
