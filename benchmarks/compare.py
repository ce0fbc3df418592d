"""WCE, per-AU SupCon and AUNCE (Table VII's model E, and the ablation models A-E) with the same encoder, data and
budget on SynthAU, mean ± std over seeds (and folds), each beside its AUC and the all-positive F1.

    .venv/bin/python benchmarks/compare.py --out runs/compare                       # WCE, SupCon, AUNCE scratch, AUNCE paper; 3 seeds
    .venv/bin/python benchmarks/compare.py --methods WCE,AUNCE --seeds 0 --epochs 2 --out runs/compare-smoke
    .venv/bin/python benchmarks/compare.py --methods WCE,A,B,C,D,E --preset paper --out runs/ablations-paper
    .venv/bin/python benchmarks/compare.py --methods AUNCE --set neg_power=beta --set p=0,0,1,0 --out runs/try

A method is `WCE`, `SupCon`, `AUNCE` (model E) or one of `A`-`E`, optionally with `@preset` (`AUNCE@paper`); without
it the run uses `--preset` (default `scratch`). Presets fill the settings they govern (lr, tau, beta, p, neg_power,
views, augment, embedding, coords: see `aunce.train.PRESETS`); `--set field=value` overrides any TrainConfig field
for every method, and so do the explicit options below when given. Every run trains on the fold's training
subjects minus a held-out validation part (which picks every method's epoch by validation AUC, the linear probe's
epoch and all thresholds) and is scored on the fold's test subjects against the noisy labels the data set ships
and the clean labels SynthAU knows. Writes `runs.csv` (one row per run, appended as runs finish; finished runs are
read back, not run again), `summary.csv`, `summary.md` and `config.json` into --out, and prints the tables.
`auc_clean` (50 = chance) says whether a model's scores carry any signal; `f1_clean_all_positive` is the F1 of
predicting every AU present; a model within 2 AUC points of 50 is marked "at chance".
"""
from __future__ import annotations
import argparse, dataclasses, sys, time
from pathlib import Path

import pandas as pd
import torch

try:
    import aunce  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aunce.train import TrainConfig, prepare_data, write_json, check_writable_dir
from aunce.evaluate import (run_experiment, ablation_config, mean_std, format_mean_std, verdict, PAPER_TABLE7,
                            PAPER_TABLE6)
sys.path.insert(0, str(Path(__file__).resolve().parent))   # the benchmarks beside it
from synth_learnability import DEMO_EPOCHS  # noqa: E402   make demo's epochs

METRICS = ["f1_clean_tuned", "f1_clean", "auc_clean", "accuracy_tuned", "f1_clean_all_positive", "aus_above_05",
           "aus_above_tuned", "f1_tuned", "f1", "auc", "f1_all_positive"]
PAIRED = ["auc_clean", "f1_clean", "f1_clean_tuned"]   # paired differences against WCE


def to_markdown(df: pd.DataFrame) -> str:
    "A GitHub markdown table (no tabulate dependency)."
    cols = [str(df.index.name or "")] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join([str(i)] + [str(v) for v in r]) + " |" for i, r in zip(df.index, df.values.tolist())]
    return "\n".join(lines)


def parse_value(field: dataclasses.Field, text: str):
    "A `--set` value converted to the type of the TrainConfig field's default."
    d = field.default
    if field.name in ("p", "betas"): return tuple(float(x) for x in text.split(","))
    t = str(field.type)
    if isinstance(d, bool) or "bool" in t: return text.lower() in ("1", "true", "yes", "on")
    if (isinstance(d, int) and not isinstance(d, bool)) or "int" in t: return int(text)
    if isinstance(d, float) or "float" in t: return float(text)
    return text


def run_row(ex, seconds: float) -> dict:
    "A run's CSV columns: every summary metric, the kept epoch, best validation AUC, the last monitors, `seconds`, per-AU clean tuned F1."
    s, h, t = ex.eval.summary(), ex.train.history, ex.eval.table.drop(index="mean")
    mon = {k: float(h[k].iloc[-1]) for k in ("mean_cos", "emb_std", "cos_gap") if k in h}
    above = {f"aus_above_{n}": int((t[c] - t["f1_clean_all_positive"] > 2).sum())
             for n, c in (("05", "f1_clean"), ("tuned", "f1_clean_tuned")) if c in t}
    return {**s, **above, "train_best_epoch": ex.train.best_epoch,
            "val_auc_best": float(h["val_auc"].max()) if "val_auc" in h else float("nan"),
            **{f"last_{k}": v for k, v in mon.items()}, "seconds": seconds,
            **{f"{au} f1_clean_tuned": v for au, v in ex.eval.table["f1_clean_tuned"].items() if au != "mean"}}


def paired_text(r: dict) -> str:
    "A `compare_methods` result as `mean [lo, hi]` (the mean alone without an interval, one pair)."
    return f"{r['mean']:+.1f} [{r['lo']:+.1f}, {r['hi']:+.1f}]" if r["n"] > 1 else f"{r['mean']:+.1f}"


def paired_word(r: dict) -> str:
    "`better` / `worse` when a `compare_methods` result's 95 % interval excludes 0, else `cannot tell` (`one run`: no interval)."
    return ("better" if r["lo"] > 0 else "worse" if r["hi"] < 0 else "cannot tell") if r["n"] > 1 else "one run"


def paired_table(df: pd.DataFrame, methods: list[str], base: str = "WCE") -> pd.DataFrame:
    "Each method minus `base` over the runs they share (fold, seed): `mean [lo, hi]` per metric of PAIRED and a verdict."
    from aunce.evaluate import compare_methods
    rows = {}
    if base not in methods: return pd.DataFrame()
    for m in methods:
        if m == base: continue
        row = {}
        for k in PAIRED:
            if k not in df: continue
            r = compare_methods(df, m, base, k, label="method")
            row[f"{k} diff"] = paired_text(r)
            if k == "auc_clean":
                row["pairs"] = int(r["n"])
                row["AUC vs WCE"] = paired_word(r)
        rows[m] = row
    out = pd.DataFrame(rows).T
    out.index.name = f"method - {base}"
    return out


def method_config(name: str, base: dict) -> TrainConfig:
    "The TrainConfig of a method name (`WCE`, `SupCon`, `AUNCE`, `A`-`E`, each optionally `@preset`)."
    m, _, preset = name.partition("@")
    kw = dict(base, **({"preset": preset} if preset else {}))
    if m == "WCE": return TrainConfig(**kw, method="wce")
    if m == "SupCon": return TrainConfig(**kw, method="supcon")
    cfg = TrainConfig(**kw, method="aunce")
    if m == "AUNCE": return cfg
    if m in "ABCDE" and len(m) == 1: return ablation_config(cfg, m)
    raise SystemExit(f"compare.py: unknown method {name!r}; use WCE, SupCon, AUNCE or A-E, optionally with @paper/@scratch")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="bp4d")
    ap.add_argument("--label-noise", type=float, default=0.2)
    ap.add_argument("--subjects", type=int, default=36)
    ap.add_argument("--frames", type=int, default=96, help="SynthAU frames per subject")
    ap.add_argument("--videos", type=int, default=12, help="SynthAU videos per subject")
    ap.add_argument("--synth-seed", type=int, default=0)
    ap.add_argument("--folds", default="1")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--methods", default="WCE,SupCon,AUNCE@scratch,AUNCE@paper")
    ap.add_argument("--preset", default="scratch", choices=["scratch", "paper"], help="for methods without @preset")
    ap.add_argument("--image-size", type=int, default=96)
    ap.add_argument("--aligned-size", type=int, default=128, help="faces aligned to this size, then the centre crop (make demo's 128)")
    ap.add_argument("--synth-size", type=int, default=112, help="SynthAU rendering size (make demo's 112; 0: the aligned size)")
    ap.add_argument("--backbone", default="tiny16")
    ap.add_argument("--backbone-width", type=int, default=0, help="stem width of the tiny backbones (0: default 16)")
    ap.add_argument("--embed-dim", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=DEMO_EPOCHS, help=f"make demo's {DEMO_EPOCHS}")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None, help="every method's learning rate (default: the preset's)")
    ap.add_argument("--val-fraction", type=float, default=0.25)
    ap.add_argument("--probe-epochs", type=int, default=30)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override a TrainConfig field")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="runs/compare")
    a = ap.parse_args(argv)
    out = check_writable_dir(a.out); out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(a.threads)
    seeds = [int(s) for s in a.seeds.split(",") if s]
    folds = [int(f) for f in a.folds.split(",") if f]
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    base = dict(dataset="synth", profile=a.profile, subjects=a.subjects, frames=a.frames, videos=a.videos,
                synth_seed=a.synth_seed, label_noise=a.label_noise, image_size=a.image_size, aligned_size=a.aligned_size,
                synth_size=a.synth_size,
                backbone=a.backbone,
                backbone_width=a.backbone_width, embed_dim=a.embed_dim, epochs=a.epochs, batch_size=a.batch_size,
                val_fraction=a.val_fraction, device=a.device, threads=a.threads, progress=False, preset=a.preset)
    if a.lr is not None: base["lr"] = a.lr
    for s in a.set:
        k, eq, v = s.partition("=")
        if not eq or k not in fields: raise SystemExit(f"compare.py: --set {s!r}: expected FIELD=VALUE with a TrainConfig field")
        base[k] = parse_value(fields[k], v)
    cfgs = {m: method_config(m, base) for m in methods}   # checked before anything runs
    write_json({"argv": sys.argv, "args": vars(a), "configs": {m: c.to_dict() for m, c in cfgs.items()}}, out / "config.json")
    done = pd.read_csv(out / "runs.csv") if (out / "runs.csv").exists() else pd.DataFrame()
    rows, t0 = done.to_dict("records"), time.perf_counter()
    key = lambda m, f, s: (m, f, s)
    have = {key(r["method"], int(r["fold"]), int(r["seed"])) for r in rows}
    for fold in folds:
        data = None
        for seed in seeds:
            for m in methods:
                if key(m, fold, seed) in have: continue
                if data is None:
                    data = prepare_data(dataclasses.replace(cfgs[m], fold=fold), echo=True)
                    print(f"fold {fold}: {data[0]} | {data[1]}", flush=True)
                cfg = dataclasses.replace(cfgs[m], fold=fold, seed=seed, out_dir=str(out / f"fold{fold}-seed{seed}-{m.replace('@', '-')}"))
                t = time.perf_counter()
                ex = run_experiment(cfg, data=data, probe_epochs=a.probe_epochs, tag=m)
                s = ex.eval.summary()
                rows.append({"method": m, "preset": cfg.preset, "fold": fold, "seed": seed,
                             **run_row(ex, time.perf_counter() - t)})
                print(f"[{time.perf_counter() - t0:6.0f}s] fold {fold} seed {seed} {m:>14}: "
                      + ", ".join(f"{k} {s[k]:.1f}" for k in METRICS[:5] if k in s)
                      + f", epoch {ex.train.best_epoch} {verdict(s.get('auc_clean', float('nan')))}", flush=True)
                pd.DataFrame(rows).to_csv(out / "runs.csv", index=False)
    df = pd.DataFrame(rows)
    df = df[df["method"].isin(methods) & df["fold"].isin(folds) & df["seed"].isin(seeds)]
    ms = mean_std(df, "method", [c for c in METRICS + ["val_auc_best"] if c in df])
    ms = ms.reindex([m for m in methods if m in ms.index])
    table = format_mean_std(ms)
    table["verdict"] = [verdict(v) for v in ms["mean"]["auc_clean"]]
    table["runs"] = ms["n"][ms["n"].columns[0]]
    table["paper F1 (BP4D)"] = [PAPER_TABLE7[m.split("@")[0]]["f1"] if m.split("@")[0] in PAPER_TABLE7 else
                                PAPER_TABLE7["E"]["f1"] if m.startswith("AUNCE") else
                                next(r["f1"] for r in PAPER_TABLE6 if r["backbone"].startswith("MEGraph") and r["loss"] == "WCE")
                                if m == "WCE" else "" for m in table.index]
    table.index.name = "method"
    ms.to_csv(out / "summary.csv")
    paired = paired_table(df, methods)
    per_au = df.groupby("method", sort=False)[[c for c in df if c.endswith(" f1_clean_tuned")]].mean().round(1)
    per_au.columns = [c.split()[0] for c in per_au.columns]
    changed = {m: c.differs_from_preset() for m, c in cfgs.items()}
    md = ["# SynthAU comparison", "", f"`{' '.join(sys.argv)}`", "",
          f"SynthAU profile {a.profile} (synth seed {a.synth_seed}), label noise {a.label_noise}, {a.subjects} subjects x "
          f"{a.frames} frames ({a.videos} videos each), folds {folds}, seeds {seeds}; backbone {a.backbone} "
          f"(d={a.embed_dim}), crops {a.image_size}px, {a.epochs} epochs, batch {a.batch_size}; linear probe "
          f"{a.probe_epochs} epochs. Mean ± std over runs; F1 (%) on the test fold; `clean` against SynthAU's noise-free "
          f"labels; `tuned` at per-AU thresholds chosen on held-out training subjects; every method keeps its epoch "
          f"of best validation AUC. Presets: " + "; ".join(f"{m}: {c.preset}" + (f" with {changed[m]}" if changed[m] else "")
                                                             for m, c in cfgs.items()) + ".",
          "", to_markdown(table), "",
          "Paired differences against WCE (same folds and seeds; mean, 95 % t interval over the paired runs, and the "
          "verdict whether the method is better, worse or cannot be told apart from WCE):", "",
          to_markdown(paired) if len(paired) else "(no method beside WCE, or fewer than two paired runs)", "",
          "Per-AU F1 (clean labels, tuned thresholds), mean over runs:", "", to_markdown(per_au)]
    (out / "summary.md").write_text("\n".join(md) + "\n")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table); print(paired); print(per_au)
    print(f"wrote {out}/runs.csv, summary.csv, summary.md")
    return df


if __name__ == "__main__":
    main()
