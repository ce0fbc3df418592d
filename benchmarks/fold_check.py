"""Were make demo's lr and epochs chosen on the test fold? A check on the folds they were not chosen on.

    .venv/bin/python benchmarks/fold_check.py [--study benchmarks/results/claims_e20]

The `scratch` preset's lr by method and make demo's 20 epochs were chosen by looking at fold 1's test subjects
(seeds 0-2, benchmarks/results/compare_synthau.md). The claims study runs item 1 (WCE, SupCon, AUNCE `scratch` and
`paper`) on folds 1-3 x 5 seeds at that setting; this prints, from its runs.csv (symmetric noise 0.2, no pretrained
start), per method the mean ± std of clean AUC, F1 at 0.5, tuned F1 and the AUs above the all-positive F1 + 2, and
each method minus WCE paired by (fold, seed) with its 95 % t interval, for fold 1, for folds 2-3 (held out from the
choice) and for all three. It trains nothing.
"""
import argparse, sys
from pathlib import Path
import pandas as pd
from aunce.evaluate import compare_methods

METHODS = ["WCE", "SupCon", "AUNCE@scratch", "AUNCE@paper"]
COLS = ["auc_clean", "f1_clean", "f1_clean_tuned", "f1_clean_all_positive", "aus_above_05", "aus_above_tuned"]

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--study", default=str(Path(__file__).resolve().parent / "results" / "claims_e20"), help="a claims.py --out folder")
    a = ap.parse_args(argv)
    p = Path(a.study) / "runs.csv"
    if not p.is_file(): raise SystemExit(f"{p}: no runs.csv (run benchmarks/claims.py --out {a.study} --items 1 --folds 1,2,3)")
    df = pd.read_csv(p)
    df = df[(df["noise_model"] == "symmetric") & (df["label_noise"] == 0.2) & (df["pretrained_start"] == "none") & df["name"].isin(METHODS)]
    for folds, what in (([1], "fold 1 (where the lr and epochs were chosen)"), ([2, 3], "folds 2-3 (held out from that choice)"),
                        ([1, 2, 3], "folds 1-3")):
        d = df[df["fold"].isin(folds)]
        if d.empty: print(f"\n== {what}: no runs"); continue
        print(f"\n== {what}: runs per method {d.groupby('name').size().to_dict()}")
        with pd.option_context("display.width", 250):
            print(d.groupby("name")[[c for c in COLS if c in d]].agg(["mean", "std"]).round(1).to_string())
        for m in METHODS[1:]:
            for k in ("auc_clean", "f1_clean", "f1_clean_tuned"):
                r = compare_methods(d, m, "WCE", k, label="name")
                if r["n"] < 2: continue
                v = "better" if r["lo"] > 0 else "worse" if r["hi"] < 0 else "cannot tell"
                print(f"  {m} - WCE {k}: {r['mean']:+.1f} [{r['lo']:+.1f}, {r['hi']:+.1f}] over {int(r['n'])} pairs: {v}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
