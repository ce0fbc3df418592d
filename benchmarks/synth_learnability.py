"""SynthAU is learnable but not trivial: a tiny CNN trained with plain BCE for a few CPU epochs beats the
all-positive baseline's mean F1 on unseen test subjects, with label noise 0 and 0.2.

    .venv/bin/python benchmarks/synth_learnability.py [--profile bp4d] [--epochs 12] [--threads 2] [--out DIR]

Prints the table of nbs/02_synth.ipynb (mean F1 of the CNN and of the all-positive baseline, per-AU F1 of the CNN)."""
import argparse, time
import torch
from aunce.synth import learnability_check

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="bp4d")
    ap.add_argument("--subjects", type=int, default=36)
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--videos", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="keep the rendered datasets here (default: a temporary directory)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    tab = learnability_check(a.out, a.profile, a.subjects, a.frames, a.videos, epochs=a.epochs, seed=a.seed, verbose=a.verbose)
    with __import__("pandas").option_context("display.width", 200, "display.max_columns", 30):
        print(tab)
    gap = (tab["mean F1 CNN"] - tab["mean F1 all-positive"]).round(3).to_dict()
    print(f"mean F1 CNN - all-positive: {gap}   ({time.perf_counter() - t0:.0f}s)")
