"""Do the feature maps separate the AU classes? `FeatureExplorer.separation` for a trained WCE/AUNCE pair beside the
same encoder at its random initial weights (the floor), on the same test frames.

    .venv/bin/python benchmarks/feature_separation.py                                  # make demo's pair (runs/demo)
    .venv/bin/python benchmarks/feature_separation.py --aunce RUN --wce RUN --n 150 --method tsne

Per AU and model: the AUC (%) of each frame's share of AU-present frames among its 10 nearest frames of other
subjects (`aunce.explore_features.knn_separation`; 50 = mixed), on the 2-D map and on the per-AU embedding, against
SynthAU's clean labels; then how many AUs are above 60. It trains nothing.
"""
import argparse, sys
from dataclasses import replace
from pathlib import Path
import pandas as pd
import torch
from aunce.explore import load_model, checkpoint_frames, embed_frames, sample_frames, FrameTable, subject_folds
from aunce.explore_features import FeatureExplorer, FeatState
from aunce.config import TrainConfig
from aunce.train import build_model

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aunce", default="runs/demo/aunce", help="AUNCE run folder or checkpoint")
    ap.add_argument("--wce", default="runs/demo/wce", help="WCE run folder or checkpoint")
    ap.add_argument("--n", type=int, default=150, help="random test frames (the explorer's default)")
    ap.add_argument("--method", default="tsne", choices=["tsne", "umap", "pca"])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    for p in (a.aunce, a.wce):
        if not Path(p).exists(): raise SystemExit(f"{p}: no such run folder or checkpoint (make demo writes runs/demo/aunce and runs/demo/wce)")
    models = {"WCE": load_model(a.wce), "AUNCE": load_model(a.aunce)}
    frames, root = checkpoint_frames(models["WCE"], split="test")
    fr = sample_frames(frames, a.n, a.seed)
    emb = {k: embed_frames(m, fr) for k, m in models.items()}
    m0 = models["WCE"]
    m0.model = build_model(replace(TrainConfig.from_dict(m0.config), pretrained_path="", seed=a.seed), len(fr.aus)).eval()
    emb["random init"] = embed_frames(m0, fr)
    try: folds = subject_folds(m0.config["dataset"], root)
    except Exception: folds = None
    fx = FeatureExplorer(emb, FrameTable.from_frames(fr, folds), FeatState(au=fr.aus[0], method=a.method, seed=a.seed), live=False)
    out = pd.concat({"map": fx.separation(a.method), "embedding": fx.separation("embedding")}, axis=1).round(1)
    print(f"{len(fr)} test frames of {len(set(fr.subjects))} subjects; {a.method} maps; WCE {a.wce}, AUNCE {a.aunce}")
    with pd.option_context("display.width", 200): print(out)
    for k in emb:
        print(f"{k}: AUs above 60 on the map {int((out[('map', k)].drop('mean') > 60).sum())}, "
              f"on the embedding {int((out[('embedding', k)].drop('mean') > 60).sum())} of {len(fr.aus)}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
