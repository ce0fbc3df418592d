"""Every method of the claims study beside WCE, paired: per cell (item, group, label) of the study, the method's clean AUC,
F1 @0.5, tuned F1 and the all-positive F1, and its difference from WCE trained on the same fold, seed, noise model
and rate from the same start (the same encoder and budget), paired by (fold, seed) with the 95 % t interval
(`aunce.evaluate.compare_methods`); "at chance" when the AUC is within 2 of 50, "cannot tell" when the interval holds 0.

    .venv/bin/python benchmarks/vs_wce.py                                   # the study of record
    .venv/bin/python benchmarks/vs_wce.py --study runs/claims --items 2,4

The 4-layer CNN (benchmarks/synth_learnability.py --like-demo) ran on fold 1 at symmetric noise 0.2 and 0 with other
seeds: it is printed as a reference line, not paired.
"""
import argparse, sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from claims import collect, common_runs, ints  # noqa: E402
from compare import paired_text, paired_word  # noqa: E402
from aunce.evaluate import compare_methods, verdict  # noqa: E402

METRICS = {"auc_clean": "AUC", "f1_clean": "F1@0.5", "f1_clean_tuned": "tuned F1"}
CNN = "4-layer CNN, fold 1, symmetric 0.2, 3 seeds (README): AUC 83.5, F1@0.5 66.1; at noise 0: 87.7, 72.9"


def vs_wce(df: pd.DataFrame, items=(1, 2, 3, 4, 5)) -> pd.DataFrame:
    """One row per cell of `df` (`claims.collect`), over the folds x seeds all cells of its group ran (`claims.common_runs`):
    its means and its paired differences from WCE (same fold, seed, noise, start; WCE's runs from any item) for `items`."""
    wce = df[df["name"].str.startswith("WCE")].drop_duplicates("key")
    rows = []
    for (item, group, label), d in common_runs(df[df["item"].isin(items)]).groupby(["item", "group", "label"], sort=False):
        d = d.drop_duplicates("key")
        ref = wce[wce["noise_model"].isin(d["noise_model"]) & wce["label_noise"].isin(d["label_noise"])
                  & wce["pretrained_start"].isin(d["pretrained_start"])]
        row = dict(item=item, group=group, label=label, runs=len(d),
                   **{v: round(d[k].mean(), 1) for k, v in METRICS.items()},
                   all_positive=round(d["f1_clean_all_positive"].mean(), 1), chance=verdict(d["auc_clean"].mean()))
        if d["name"].str.startswith("WCE").all() or not len(ref):
            rows.append(row); continue
        both = pd.concat([d.assign(m="a"), ref.assign(m="WCE")])
        for k, v in METRICS.items():
            r = compare_methods(both, "a", "WCE", k, label="m")
            row[f"{v} - WCE"] = f"{paired_text(r)} {paired_word(r)}" if r["n"] > 1 else "n < 2"
        row["pairs"] = str(int(r["n"]))
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--study", default=str(Path(__file__).resolve().parent / "results" / "claims_e20"))
    ap.add_argument("--items", default="1,2,3,4,5")
    a = ap.parse_args(argv)
    df = collect(a.study)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250):
        print(vs_wce(df, ints(a.items)).astype(object).fillna("").to_string(index=False))
    print("\nreference:", CNN)


if __name__ == "__main__":
    main()
