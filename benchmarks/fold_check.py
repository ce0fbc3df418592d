"""Were make demo's lr and epochs chosen on the test fold? A check on the folds they were not chosen on.

    .venv/bin/python benchmarks/fold_check.py [--study benchmarks/results/claims_e20]

The `scratch` preset's lr by method and make demo's 20 epochs were chosen by looking at fold 1's test subjects
(seeds 0-2, benchmarks/results/compare_synthau.md). The claims study runs item 1 (WCE, SupCon, AUNCE `scratch` and
`paper`) on folds 1-3 x 5 seeds at that setting; this prints, from its runs.csv (symmetric noise 0.2, no pretrained
start), per method the mean ± std of clean AUC, F1 at 0.5, tuned F1 and the AUs above the all-positive F1 + 2, and
each method minus WCE paired by (fold, seed) with its 95 % t interval (compare.py's table), for fold 1, for folds 2-3 (held out from the
choice) and for all three. It trains nothing.
"""
import argparse, sys
from pathlib import Path
import pandas as pd
sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import paired_table, to_markdown  # noqa: E402   compare.py's paired rows against WCE
from claims import collect  # noqa: E402   the study's cells: item 1's runs by their table label

METHODS = ["WCE", "SupCon", "AUNCE@scratch", "AUNCE@paper"]
COLS = ["auc_clean", "f1_clean", "f1_clean_tuned", "f1_clean_all_positive", "aus_above_05", "aus_above_tuned"]

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--study", default=str(Path(__file__).resolve().parent / "results" / "claims_e20"), help="a claims.py --out folder")
    a = ap.parse_args(argv)
    p = Path(a.study) / "runs.csv"
    if not p.is_file(): raise SystemExit(f"{p}: no runs.csv (run benchmarks/claims.py --out {a.study} --items 1 --folds 1,2,3)")
    df = collect(a.study)     # item 1's cells by their table label (WCE, SupCon, AUNCE@scratch, AUNCE@paper)
    df = df[(df["item"] == 1) & (df["noise_model"] == "symmetric") & (df["label_noise"] == 0.2)]
    df = df.drop(columns=["method"]).rename(columns={"label": "method"})
    for folds, what in (([1], "fold 1 (where the lr and epochs were chosen)"), ([2, 3], "folds 2-3 (held out from that choice)"),
                        ([1, 2, 3], "folds 1-3")):
        d = df[df["fold"].isin(folds)]
        if d.empty: print(f"\n== {what}: no runs"); continue
        print(f"\n== {what}: runs per method {d.groupby('method').size().to_dict()}")
        with pd.option_context("display.width", 250):
            print(d.groupby("method")[[c for c in COLS if c in d]].agg(["mean", "std"]).round(1).to_string())
        print(to_markdown(paired_table(d, METHODS)))
    return 0

if __name__ == "__main__":
    sys.exit(main())
