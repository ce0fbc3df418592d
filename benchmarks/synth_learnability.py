"""SynthAU is learnable but not trivial: a tiny CNN trained with plain BCE for a few CPU epochs beats the
all-positive baseline on unseen test subjects, with label noise 0 and 0.2 (mean F1 at 0.5, mean AUC, AUs above the
all-positive F1 by 2 points; clean test labels).

    .venv/bin/python benchmarks/synth_learnability.py [--profile bp4d] [--epochs 12] [--threads 2] [--out DIR]
    .venv/bin/python benchmarks/synth_learnability.py --like-demo --seeds 0,1,2

`--like-demo` trains on `make demo`'s data (its SynthAU cache folder, rendered if missing), on the same subjects as
the pipeline's training part (fold 1's training subjects less the 25 % held out for validation) and for the demo's
20 epochs, so its numbers compare like with like with the demo's WCE; without it the check renders its own set at
256 px and trains on every training subject of the fold for 12 epochs. Prints the table of nbs/02_synth.ipynb per seed."""
import argparse, time
import pandas as pd
import torch
from aunce.synth import learnability_check

DEMO_EPOCHS = 20   # make demo's budget (Makefile DEMO_PARAMS); compare.py's default too

def demo_data(label_noise: float = 0.2, val_fraction: float = 0.25):
    "(SynthAU root, training subjects) of `make demo`'s pipeline (its data, its validation split)."
    from aunce.train import TrainConfig, prepare_data, split_train_val, synth_root
    cfg = TrainConfig(dataset="synth", profile="bp4d", subjects=36, frames=96, videos=12, label_noise=label_noise,
                      image_size=96, aligned_size=128, synth_size=112, val_fraction=val_fraction, preset="scratch")
    tr, _ = prepare_data(cfg)
    tr, _ = split_train_val(cfg, tr)
    return synth_root(cfg), sorted(set(tr.subjects))

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="bp4d")
    ap.add_argument("--subjects", type=int, default=36)
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--videos", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=None, help=f"default 12; with --like-demo make demo's {DEMO_EPOCHS} (the same budget)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", default="0", help="comma-separated model seeds")
    ap.add_argument("--like-demo", action="store_true", help="make demo's data and training subjects (see above)")
    ap.add_argument("--out", default=None, help="keep the rendered datasets here (default: a temporary directory)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    kw = {}
    if a.epochs is None: a.epochs = DEMO_EPOCHS if a.like_demo else 12
    if a.like_demo:
        root, subs = demo_data()
        kw = dict(data=root, train_subjects=subs)
        print(f"make demo's data: {root}; {len(subs)} training subjects: {' '.join(subs)}")
    tabs = []
    for s in [int(x) for x in a.seeds.split(",")]:
        tab = learnability_check(a.out, a.profile, a.subjects, a.frames, a.videos, epochs=a.epochs, seed=s,
                                 verbose=a.verbose, **kw)
        tabs.append(tab.assign(seed=s).reset_index())
        with pd.option_context("display.width", 250, "display.max_columns", 30):
            print(f"seed {s}:"); print(tab)
    allt = pd.concat(tabs)
    summ = allt.groupby("label_noise")[["mean F1 CNN", "mean AUC CNN", "AUs above all-positive", "mean F1 all-positive"]].agg(["mean", "std"])
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(f"over seeds {a.seeds}:"); print(summ.round(3))
    print(f"({time.perf_counter() - t0:.0f}s)")
