"""Rebuilds Lofi Loom's decoder from the shared data in one command, seeded.

    models/train/.venv/bin/python models/train/run_all.py [--data ../shared/data]

Steps: dataset -> descriptor labels and quantile table -> descriptor fixtures -> training
-> ONNX export (+ onnxruntime check) -> parity fixture -> evaluation. Intermediate files go
to models/train/work/ (not committed); the model files go to models/.
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The configuration of the committed model (see models/MODEL.md).
TRAIN_ARGS = ["--steps", "3000", "--beta-max", "1.0", "--free-bits", "0.1",
              "--prior-z-prob", "0.3", "--minutes", "60"]


def run(module: str, *args: str):
    cmd = [sys.executable, "-m", f"lofi_train.{module}", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=HERE, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(HERE.parents[2] / "shared" / "data"))
    ap.add_argument("--seed", default="1234")
    ap.add_argument("--skip-train", action="store_true",
                    help="reuse work/model.pt (export, fixtures and evaluation only)")
    args = ap.parse_args()
    run("build_dataset", "--data", args.data, "--seed", args.seed)
    run("label")
    run("fixtures_descriptors")
    if not args.skip_train:
        run("train", "--seed", args.seed, *TRAIN_ARGS)
    run("export")
    run("parity")
    run("evaluate")


if __name__ == "__main__":
    main()
