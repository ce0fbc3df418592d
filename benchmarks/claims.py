"""The paper's claims measured on SynthAU (issues 9 and 17): every run of the study, resumable, one process per core.

    .venv/bin/python benchmarks/claims.py --out benchmarks/results/claims          # the full study (measured: 4.1 CPU h, about 2.2 h on 2 cores)
    .venv/bin/python benchmarks/claims.py --out /tmp/claims-quick --quick          # the whole pipeline on a tiny grid
    .venv/bin/python benchmarks/claims.py --out runs/claims --items 3 --procs 4    # one item, four processes
    .venv/bin/python benchmarks/claims.py --out runs/claims --summary-only         # rewrite summary.md from runs.csv
    .venv/bin/python benchmarks/claims.py --out runs/claims --items 3 --seeds 0,1 --dry-run   # a subset: its size and time

A subset (`--items`, `--seeds`, `--folds`, `--noise`, `--noise-models`, the sweeps) runs only its cells; the study in
`--out` then covers the union of every subset run there (config.json), and summary.md reads all of it. The settings
that change what a run measures (`--subjects`, `--frames`, `--videos`, `--image-size`, `--epochs`, `--batch-size`,
`--probe-epochs`, `--pretrain-epochs`, `--monitor-frames`, `--profile`, `--synth-seed`, `--quick`) cannot change
in a resumed study: that is an error naming the option, so runs.csv never mixes rows of two configurations.

Items (the issue's numbering; every cell on `--seeds`, items 1-2 on every fold of `--folds`, items 3-5 on its first):
1. WCE, per-AU SupCon, AUNCE `scratch` and AUNCE `paper`, same encoder, data and budget.
2. Table VII's models A-E under the `paper` and under the `scratch` preset.
3. label noise: clean labels, and each SynthAU noise model of `--noise-models` (symmetric, boundary, missed_weak,
   coder: `aunce.synth.NOISE_MODELS`) at each nonzero rate of `--noise` x {WCE, SupCon, AUNCE without PS (model D
   under `scratch`: p=(1,0,0,0)), AUNCE with PS at Table VIII's best p (0.15,0.15,0.7,0) and at the `scratch` p (0,0,1,0)}.
4. NS off (model C) vs on (model E) for neg_power `beta`, `paper_eq4` and `hcl` under `scratch` (per-AU F1 against
   the AU's occurrence rate), and Fig. 5's sweeps for `beta` and `hcl`: beta_min 0.8..1.8 (step 0.2) at beta_maj 0.4,
   beta_maj 0.2..1.2 (step 0.2) at beta_min 1.2.
5. The encoder's backbone pretrained on a separate SynthAU set (synth seed `--synth-seed + 1000`: identities that
   are in no fold), in two ways: self-supervised (SimCLR's NT-Xent on two SimCLR views, no AU labels; label
   `pretrained`, saved as `DIR/pretrain/backbone.safetensors`) and supervised (WCE on that set's clean labels, the
   `scratch` setting, all its subjects; label `pretrained, supervised`, `DIR/pretrain/supervised_backbone.safetensors`:
   a stand-in for ImageNet or face pretraining), each loaded through `pretrained_path`; AUNCE from scratch vs each
   start under both presets (`paper` at its lr 1e-5 and ANFL head), and WCE from each start as the reference.

A run is identified by a key hashed from its full TrainConfig (minus where and how it runs) and the probe epochs, so
a run that serves several cells (AUNCE@scratch is item 1's AUNCE, item 2's E@scratch, item 3's PS run at noise 0.2,
item 4's hcl NS-on run, ...) runs once. Finished runs are read back from `DIR/runs.csv` (one row per run: the
method `name` (`run_name`: one per configuration, e.g. `AUNCE@scratch`, `D@scratch`,
`AUNCE@scratch p=(.15,.15,.7,0)`, `C@scratch NS=beta`, `WCE from supervised`), `noise_model`, `label_noise`, `fold`, `seed`, `pretrained_start` (none | simclr | supervised), every summary metric,
per-AU clean tuned F1 and training-split occurrence rate on noisy and clean labels, the kept epoch, best val AUC, the
last and kept-epoch mean cosine and embedding spread, seconds), appended by the parent as workers finish, and
`DIR/subjects.csv` (per run, test subject and AU: TP, FP, FN at the tuned thresholds on the clean labels, for the
bootstrap over test subjects). Runs go to a pool
of `--procs` processes (default: every core), each with one torch thread. `DIR/summary.md` (the paired verdict per claim: mean
paired difference over folds x seeds with its 95 % t interval, the bootstrap interval over test subjects, the minimum
detectable difference and the three-way verdict of SPEC §7, `aunce.evaluate.compare_methods`; then issue 9's verdict
table and a table per item) is written from the CSV at the end; `nbs/results_synthau.ipynb` draws the same tables and the figures.

Size of the full study as issue 9 ran it (3 seeds, symmetric noise 0/0.2/0.4), and how it was chosen; the defaults
now take 5 seeds and every noise model (`--dry-run` prints the grid's size and projected time). The grid has 222 distinct runs (3 folds x 3 seeds:
item 1 36, item 2 +72; fold 1 x 3 seeds: item 3 +33, item 4 +72, item 5 +9) and one pretraining job. Measured at
36 subjects x 96 frames, 96 px, 10 epochs, one thread (`benchmarks/results/compare_synthau_runs.csv`): WCE 109 s,
SupCon 139 s, AUNCE `scratch` (flip views) 117 s, AUNCE `paper` (SimCLR views) 226 s a run; 63 of the 222 runs
use SimCLR views. That size would take about 9.1 CPU hours, 4.7 h on 2 cores before any slowdown from two
processes sharing the machine, so the study keeps the 36 subjects, 96 frames and 96 px of the measured setting
(its test folds, the SynthAU set and the headroom compare_synthau.md measured: WCE clean AUC 69.1 ± 2.7, 19 points
above chance, tuned F1 49.5 vs 46.2 all-positive) and cuts the budget to 8 epochs (the methods' kept epochs there
were 3-9 of 10, mean 6.8): 222 runs project to about 7.3 CPU hours plus about 0.25 h of pretraining (20 epochs on
the 36 x 96 pretraining frames), 3.8 h on 2 cores. The script prints its own projection before it starts (and
recalibrates it on the runs already in runs.csv). Smaller images or fewer subjects were not taken: the issue
reports WCE at only about AUC 66 at 96 px, so the headroom is the thing not to spend.
`--quick` (6 subjects x 24 frames in 6 videos, so that every AU is present in fold 1's training subjects under
every noise model at 0.2, 32 px, 1 epoch, 2 probe epochs, 1 fold, 1 seed, two values per sweep) runs every
item end to end in a few minutes; its numbers mean nothing.

The budget is now make demo's 20 epochs (`DEMO_EPOCHS`, with the `scratch` preset's lr by method), no longer 8: at 8
epochs and one lr the contrastive losses had not finished learning (their best epoch was the last; claim 1 read
AUNCE - WCE = -6.2 at 8 epochs and +0.8 at 20, benchmarks/results/claims_tiny16 and claims_e20). A study folder
started at another budget resumes with its own `--epochs` (the config guard names it). The study of record is
`benchmarks/results/claims_e20` (items 1-2 on folds 1-3; item 4's NS off/on with beta_maj 0.4 and 1.0 of the sweep,
and item 5, on fold 1; item 3 on fold 1 on clean labels, at rates 0.15, 0.2 and 0.3 under the symmetric, boundary
and missed_weak noise models and at 0.2 under coder; 5 seeds each: 495 runs, 16.2 CPU h; `--dry-run` prints what the
rest would take).
"""
from __future__ import annotations
import argparse, dataclasses, functools, hashlib, json, math, os, sys, time, traceback
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
try:
    import aunce  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent))
from compare import method_config, parse_value, to_markdown, run_row, METRICS  # noqa: E402
from synth_learnability import DEMO_EPOCHS  # noqa: E402   make demo's epochs: the study's budget
from aunce.train import aligned_size_for, TrainConfig, check_writable_dir, write_json  # noqa: E402
from aunce.evaluate import verdict as chance_verdict, mean_std, format_mean_std, PAPER_TABLE7, PAPER_TABLE6, PAPER_TABLE8, PAPER_FIG5, PAPER_F1  # noqa: E402
from aunce.evaluate import compare_methods, pair_runs, bootstrap_paired, ablation_config  # noqa: E402

FULL = dict(subjects=36, frames=96, videos=12, image_size=96, epochs=DEMO_EPOCHS, batch_size=32, probe_epochs=30,
            pretrain_epochs=20, monitor_frames=1024, folds="1,2,3", seeds="0,1,2,3,4",
            noise="0,0.15,0.3", noise_models="symmetric,boundary,missed_weak,coder", beta_min="0.8,1.0,1.2,1.4,1.6,1.8", beta_maj="0.2,0.4,0.6,0.8,1.0,1.2")
QUICK = dict(subjects=6, frames=24, videos=6,   # 6 short videos: every AU present in fold 1's training subjects under every noise model
             image_size=32, epochs=1, batch_size=16, probe_epochs=2,
             pretrain_epochs=1, monitor_frames=64, folds="1", seeds="0",
             noise="0.2", noise_models="symmetric,boundary,missed_weak,coder", beta_min="0.8,1.2", beta_maj="0.2,0.4")
# what a run measures (a resumed study keeps these) and which cells are run (a resumed study covers the union)
CONFIG_ARGS = ("subjects", "frames", "videos", "image_size", "epochs", "batch_size", "probe_epochs", "pretrain_epochs",
               "monitor_frames", "profile", "synth_seed", "quick")
SELECTION_ARGS = ("items", "folds", "seeds", "noise", "noise_models", "beta_min", "beta_maj")
LEGACY_ARGS = dict(noise_models="symmetric")   # config.json of a study older than these options
BEST_P, SCRATCH_P = (0.15, 0.15, 0.7, 0.0), (0.0, 0.0, 1.0, 0.0)
FORMS = ("beta", "paper_eq4", "hcl")
SWEEP_FORMS = ("beta", "hcl")
RUNTIME = ("out_dir", "device", "threads", "progress", "log_every", "num_workers", "keep_checkpoints", "cache_dir")
MINORITY_RATE = 25.0   # an AU is a minority AU when its clean training occurrence rate (%) is below this
PS_LABEL = {BEST_P: "AUNCE PS p=(.15,.15,.7,0)", SCRATCH_P: "AUNCE PS p=(0,0,1,0)"}
# measured seconds a run at 36 subjects x 96 frames, 96 px, 10 epochs, one thread (compare_synthau_runs.csv)
REF_SECONDS = {("wce", ""): 109.0, ("supcon", "flip"): 139.0, ("aunce", "flip"): 117.0, ("aunce", "simclr"): 226.0}
REF_WORK = 36 * 96 * 10


# ---------------------------------------------------------------------------------------------------------- the grid
def floats(text: str) -> list[float]: return [float(x) for x in str(text).split(",") if x != ""]
def ints(text: str) -> list[int]: return [int(x) for x in str(text).split(",") if x != ""]
def names(text: str) -> list[str]: return [x.strip() for x in str(text).split(",") if x.strip()]


def check_noise_args(a) -> None:
    "Every model of --noise-models known and every rate of --noise in its range; else a ValueError naming the option."
    from aunce.synth import NOISE_MODELS, check_noise
    models = names(a.noise_models)
    if not models: raise ValueError("--noise-models is empty: give at least one of " + ", ".join(NOISE_MODELS))
    for m in models:
        if m not in NOISE_MODELS: raise ValueError(f"--noise-models: {m!r} is not one of {list(NOISE_MODELS)}")
        for r in floats(a.noise):
            try: check_noise(m, r)
            except ValueError: raise ValueError(f"--noise: rate {r:g} is outside the range of noise model {m!r} "
                                                f"({NOISE_MODELS[m][0]:g} to {NOISE_MODELS[m][1]:g})") from None


CLEAN = "clean labels"   # item 3's group at rate 0, shared by every noise model


def noise_group(noise: float, model: str) -> str:
    "Item 3's group of a noise cell: 'clean labels' at rate 0 (the same for every model), else '<model> <rate>'."
    return CLEAN if noise == 0 else f"{model} {noise:g}"


def base_config(a) -> dict:
    "The settings every cell shares; methods without @preset (WCE, SupCon) take `scratch`, AUNCE's from-random-weights setting."
    return dict(preset="scratch", dataset="synth", profile=a.profile, subjects=a.subjects, frames=a.frames, videos=a.videos,
                synth_seed=a.synth_seed, label_noise=0.2, image_size=a.image_size, backbone="tiny16", embed_dim=64,
                aligned_size=a.image_size * 4 // 3,   # as make demo: the centre 3/4 of a 128 px face rendered at 112 px
                synth_size=max(64, aligned_size_for(a.image_size)),   # SynthAU renders at 64 px or more
                epochs=a.epochs, batch_size=a.batch_size, val_fraction=0.25, device="cpu", threads=1, progress=False,
                monitor_frames=a.monitor_frames, cache_dir=a.cache_dir)


PRETRAIN_FILES = {"simclr": "backbone.safetensors", "supervised": "supervised_backbone.safetensors"}
START_LABELS = {"simclr": "pretrained", "supervised": "pretrained, supervised"}   # item 5's labels of each start


def pretrain_path(a, start: str = "simclr") -> str: return str(Path(a.out).resolve() / "pretrain" / PRETRAIN_FILES[start])


def pretrained_start(cfg: TrainConfig) -> str:
    "'none', or which pretraining a run's `pretrained_path` holds ('simclr', 'supervised'), from its file name."
    if not cfg.pretrained_path: return "none"
    name = Path(cfg.pretrained_path).name
    return next((k for k, f in PRETRAIN_FILES.items() if f == name), "other")


def run_key(cfg: TrainConfig, probe_epochs: int) -> str:
    d = {k: v for k, v in cfg.to_dict().items() if k not in RUNTIME}
    if d.get("noise_model") == "symmetric": del d["noise_model"]   # the keys of studies from before noise models
    d["pretrained_path"] = Path(d["pretrained_path"]).name if d["pretrained_path"] else ""
    d["probe_epochs"] = probe_epochs
    return hashlib.sha1(json.dumps(d, sort_keys=True, default=list).encode()).hexdigest()[:12]


def _fmt_num(v: float) -> str: return f"{float(v):g}".replace("0.", ".", 1) if 0 < abs(float(v)) < 1 else f"{float(v):g}"


@functools.lru_cache(maxsize=None)
def _table7_models(preset: str, neg_power: str) -> tuple:
    "Table VII's models under `preset` with re-weighting form `neg_power` (`ablation_config`): (model, w, p, beta_min, beta_maj)."
    base = TrainConfig(method="aunce", preset=preset, neg_power=neg_power)
    return tuple((m, c.use_au_weights, c.p, c.beta_min, c.beta_maj) for m in "EABCD" for c in [ablation_config(base, m)])


def run_name(method: str, preset: str, use_au_weights, p, beta_min: float, beta_maj: float, neg_power: str,
             start: str = "none") -> str:
    """The method a run trained, one name per configuration (noise, fold and seed are runs.csv's own columns): `WCE`,
    `SupCon`, or for AUNCE the nearest of Table VII's models (`AUNCE@preset` = E, `A@preset`..`D@preset`), then what
    differs from it (`NS=form` when the negative re-weighting is not the preset's, `p=(...)`, `beta_min=`, `beta_maj=`,
    `w=off`), then the start (`from simclr`, `from supervised`). Several cells may read one run (item 1's AUNCE@scratch
    is item 2's E and item 3's PS p=(0,0,1,0) at its noise); the tables label each cell their way, this names the run."""
    tail = "" if start in ("none", "", None) or (isinstance(start, float) and np.isnan(start)) else f" from {start}"
    if method != "aunce":
        return {"wce": "WCE", "supcon": "SupCon"}.get(method, method) + ("" if preset == "scratch" else f"@{preset}") + tail
    got = dict(w=str(use_au_weights).lower() in ("true", "1", "1.0"),
               p=tuple(float(x) for x in (str(p).split(",") if isinstance(p, str) else p)),
               beta_min=float(beta_min), beta_maj=float(beta_maj))
    def differs(k, want): return got[k] != want if k in ("w", "p") else abs(got[k] - want) > 1e-12
    m, diff = min(((m, [k for k, v in zip(got, want) if differs(k, v)]) for m, *want in _table7_models(preset, neg_power)),
                  key=lambda md: len(md[1]))          # fewest differences; E first on ties
    parts = [("AUNCE" if m == "E" else m) + f"@{preset}"]
    if neg_power != TrainConfig(method="aunce", preset=preset).neg_power: parts.append(f"NS={neg_power}")
    for k in diff:
        v = got[k]
        parts.append("w=" + ("on" if v else "off") if k == "w" else
                     f"p=({','.join(_fmt_num(x) for x in v)})" if k == "p" else f"{k}={v:g}")
    return " ".join(parts) + tail


def cfg_name(cfg: TrainConfig) -> str:
    "`run_name` of a TrainConfig."
    return run_name(cfg.method, cfg.preset, cfg.use_au_weights, cfg.p, cfg.beta_min, cfg.beta_maj, cfg.neg_power,
                    pretrained_start(cfg))


def name_runs(runs: pd.DataFrame) -> pd.DataFrame:
    "runs.csv's `name` column from each row's configuration columns (`run_name`); rows of older studies named the cell."
    if not len(runs) or "method" not in runs: return runs
    start = runs["pretrained_start"] if "pretrained_start" in runs else pd.Series("none", index=runs.index)
    runs = runs.copy()
    runs["name"] = [run_name(r.method, r.preset, r.use_au_weights, r.p, r.beta_min, r.beta_maj, r.neg_power, s)
                    for r, s in zip(runs.itertuples(), start)]
    return runs


def name_runs_file(csv: Path) -> None:
    "Rows of studies from before `run_name` named the cell that ran them: rename `csv`'s rows by `name_runs` (atomically)."
    if not csv.exists(): return
    runs = pd.read_csv(csv)
    named = name_runs(runs)
    if "name" in runs and not runs["name"].equals(named["name"]):
        print(f"claims: named {int((runs['name'] != named['name']).sum())} runs of {csv} by their configuration (run_name)")
        tmp = csv.with_suffix(".tmp"); named.to_csv(tmp, index=False); os.replace(tmp, csv)


def build_grid(a) -> list[dict]:
    """Every cell of the chosen items: dicts with item, group, label, x (the swept value or NaN), name (a compare.py
    method name), fold, seed, cfg (TrainConfig) and key."""
    base, items = base_config(a), set(ints(a.items))
    folds, seeds = ints(a.folds), ints(a.seeds)
    f1 = folds[:1]
    cells = []
    def add(item, group, label, name, over=None, fs=f1, x=float("nan")):
        for fold in fs:
            for seed in seeds:
                cfg = dataclasses.replace(method_config(name, dict(base, **(over or {}))), fold=fold, seed=seed)
                cells.append(dict(item=item, group=group, label=label, x=x, name=name, fold=fold, seed=seed, cfg=cfg,
                                  key=run_key(cfg, a.probe_epochs)))
    if 1 in items:
        for m in ("WCE", "SupCon", "AUNCE@scratch", "AUNCE@paper"): add(1, "same budget", m, m, fs=folds)
    if 2 in items:
        for preset in ("paper", "scratch"):
            for m in "ABCDE": add(2, preset, m, f"{m}@{preset}", fs=folds)
    if 3 in items:
        rates = floats(a.noise)
        levels = ([(0.0, "symmetric")] if 0 in rates else []) + [(r, m) for m in names(a.noise_models) for r in rates if r > 0]
        for noise, model in levels:
            n, g = {"label_noise": noise, "noise_model": model}, noise_group(noise, model)
            add(3, g, "WCE", "WCE", n, x=noise)
            add(3, g, "SupCon", "SupCon", n, x=noise)
            add(3, g, "AUNCE no PS (D)", "D@scratch", n, x=noise)
            for p in (BEST_P, SCRATCH_P): add(3, g, PS_LABEL[p], "AUNCE@scratch", dict(n, p=p), x=noise)
    if 4 in items:
        for form in FORMS:
            add(4, f"NS {form}", "NS off", "C@scratch", {"neg_power": form})
            add(4, f"NS {form}", "NS on", "E@scratch", {"neg_power": form})
        for form in SWEEP_FORMS:
            for v in floats(a.beta_min):
                add(4, f"{form} beta_min sweep", f"beta_min={v:g}", "AUNCE@scratch",
                    {"neg_power": form, "beta_min": v, "beta_maj": 0.4}, x=v)
            for v in floats(a.beta_maj):
                add(4, f"{form} beta_maj sweep", f"beta_maj={v:g}", "AUNCE@scratch",
                    {"neg_power": form, "beta_min": 1.2, "beta_maj": v}, x=v)
    if 5 in items:
        for group, name in (("scratch", "AUNCE@scratch"), ("paper", "AUNCE@paper"), ("WCE", "WCE")):
            add(5, group, "from scratch", name)
            for start, label in START_LABELS.items(): add(5, group, label, name, {"pretrained_path": pretrain_path(a, start)})
    return cells


def estimate_seconds(cfg: TrainConfig) -> float:
    "A run's projected CPU seconds at one thread: the measured reference run scaled by frames x epochs x pixels."
    views = "" if cfg.method == "wce" else ("simclr" if cfg.views.startswith("simclr") else "flip")
    ref = REF_SECONDS.get((cfg.method, views), REF_SECONDS[("aunce", "simclr" if views == "simclr" else "flip")])
    return ref * cfg.subjects * cfg.frames * cfg.epochs / REF_WORK * (cfg.image_size / 96) ** 2


def pretrain_estimate(a, start: str = "simclr") -> float:
    "Pretraining sees all frames of its set (a run trains on about half its set's frames): SimCLR views, or WCE's one view."
    ref = REF_SECONDS[("aunce", "simclr")] if start == "simclr" else REF_SECONDS[("wce", "")]
    return ref * 2 * a.subjects * a.frames * a.pretrain_epochs / REF_WORK * (a.image_size / 96) ** 2


# ------------------------------------------------------------------------------------------------------- the workers
_DATA: dict = {}

def _init_worker():
    import torch
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def do_data(cfg: TrainConfig) -> str:
    from aunce.train import ensure_synth
    return str(ensure_synth(cfg))


def do_run(cell: dict, probe_epochs: int, run_dir: str) -> dict:
    "Train and evaluate one cell; its CSV row."
    from aunce.train import prepare_data, synth_root, split_train_val
    from aunce.evaluate import run_experiment
    cfg = dataclasses.replace(cell["cfg"], out_dir=run_dir)
    dk = (str(synth_root(cfg)), cfg.fold)
    if dk not in _DATA: _DATA.clear(); _DATA[dk] = prepare_data(cfg)
    t = time.perf_counter()
    ex = run_experiment(cfg, data=_DATA[dk], probe_epochs=probe_epochs, tag=cell["name"])
    h = ex.train.history
    best = h[h["epoch"] == ex.train.best_epoch] if ("epoch" in h and ex.train.best_epoch is not None) else h.iloc[[-1]]
    rates = np.asarray(ex.train.stats["rates"], dtype=float) * 100
    tr, _ = split_train_val(cfg, _DATA[dk][0])              # the training part the run saw (validation subjects out)
    clean = np.asarray(tr.clean_labels, dtype=float).mean(0) * 100 if tr.clean_labels is not None else rates * np.nan
    return {"key": cell["key"], "name": cfg_name(cfg), "method": cfg.method, "preset": cfg.preset,
            "noise_model": cfg.noise_model, "label_noise": cfg.label_noise, "neg_power": cfg.neg_power, "beta_min": cfg.beta_min,
            "beta_maj": cfg.beta_maj, "p": ",".join(f"{v:g}" for v in cfg.p), "use_au_weights": cfg.use_au_weights,
            "pretrained": bool(cfg.pretrained_path), "pretrained_start": pretrained_start(cfg),
            "fold": cfg.fold, "seed": cfg.seed,
            **run_row(ex, time.perf_counter() - t),
            **{f"best_{k}": float(best[k].iloc[0]) for k in ("mean_cos", "emb_std") if k in h},
            **{f"AU{au} rate": float(r) for au, r in zip(ex.train.aus, rates)},
            **{f"AU{au} clean rate": float(r) for au, r in zip(ex.train.aus, clean)}, "run_dir": run_dir,
            "_counts": subject_rows(ex, cfg, _DATA[dk][1], cell["key"])}


def subject_rows(ex, cfg: TrainConfig, test, key: str) -> list[dict]:
    """Per test subject and AU, TP/FP/FN of the run's predictions at its tuned thresholds against the clean test
    labels (`aunce.evaluate.subject_counts`): the run's test predictions computed again from its encoder and probe."""
    import torch
    from aunce.evaluate import extract_features, predict_probs, subject_counts, CONTRASTIVE_METHODS
    from aunce.data import AUDataset
    from aunce.transforms import eval_transform
    from aunce.train import aligned_size
    ds = AUDataset(test, transform=eval_transform(cfg.image_size), size=aligned_size(cfg))
    kw = dict(batch_size=max(64, cfg.batch_size), device=cfg.device, precision=cfg.precision)
    if cfg.method in CONTRASTIVE_METHODS: probs = predict_probs(ex.eval.head, extract_features(ex.train.encoder, ds, **kw)[0])
    else: probs = torch.sigmoid(extract_features(ex.train.model, ds, **kw)[0]).double().numpy()
    pred = (probs >= np.asarray(ex.eval.thresholds)[None]).astype(int)
    subs, c = subject_counts(pred, np.asarray(test.clean_labels), test.subjects)
    return [{"key": key, "subject": s, "au": f"AU{au}", "tp": int(c[i, k, 0]), "fp": int(c[i, k, 1]), "fn": int(c[i, k, 2])}
            for i, s in enumerate(subs) for k, au in enumerate(ex.train.aus)]


def do_pretrain(cfg: TrainConfig, epochs: int, path: str) -> dict:
    """Self-supervised pretraining of the encoder's backbone with no AU labels: SimCLR (NT-Xent, tau 0.2) between two
    SimCLR views of each frame of every subject of `cfg`'s SynthAU set, through a 2-layer projection of the mean
    backbone token; `encoder.backbone`'s weights saved to `path` (`aunce.train.save_weights`)."""
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.utils.data import DataLoader
    from aunce.train import ensure_synth, build_model, make_transform, aligned_size, save_weights, seed_everything
    from aunce.data import load_frames, AUDataset
    from aunce.transforms import TwoViews
    t0 = time.perf_counter()
    frames = load_frames("synth", ensure_synth(cfg), split="all")
    enc = build_model(cfg, len(frames.aus))
    proj = nn.Sequential(nn.Linear(enc.num_features, 128), nn.ReLU(), nn.Linear(128, 64))
    seed_everything(cfg.seed)
    ds = AUDataset(frames, transform=TwoViews(make_transform("simclr", cfg.image_size)), size=aligned_size(cfg))
    dl = DataLoader(ds, batch_size=max(cfg.batch_size, 64), shuffle=True, drop_last=True,
                    generator=torch.Generator().manual_seed(cfg.seed))
    params = list(enc.backbone.parameters()) + list(proj.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-6)
    losses = []
    enc.train()
    for epoch in range(epochs):
        tot, n = 0.0, 0
        for b in dl:
            x1, x2 = b["image"]
            z = F.normalize(proj(enc.tokens(torch.cat([x1, x2])).mean(1)), dim=-1)
            sim = z @ z.T / 0.2
            sim.fill_diagonal_(-float("inf"))
            m = len(x1)
            target = torch.cat([torch.arange(m, 2 * m), torch.arange(m)])
            loss = F.cross_entropy(sim, target)
            opt.zero_grad(); loss.backward(); opt.step()
            tot, n = tot + loss.item(), n + 1
        losses.append(tot / max(n, 1))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_weights(enc.backbone, path)
    info = {"frames": len(frames), "subjects": len(frames.subject_list), "synth_seed": cfg.synth_seed,
            "epochs": epochs, "loss": losses, "seconds": time.perf_counter() - t0, "path": path}
    write_json(info, Path(path).with_name("pretrain.json"))
    return info


def do_pretrain_supervised(cfg: TrainConfig, epochs: int, path: str) -> dict:
    """Supervised pretraining of the encoder's backbone: WCE (the `scratch` setting of `cfg`) on the clean labels of every
    subject of `cfg`'s SynthAU set, no validation part, `epochs` epochs; `model.encoder.backbone`'s weights saved to
    `path`. The set's identities are in no fold of the study: a stand-in for ImageNet or face pretraining."""
    from aunce.train import ensure_synth, save_weights, train
    from aunce.data import load_frames
    t0 = time.perf_counter()
    frames = load_frames("synth", ensure_synth(cfg), split="all")
    run = Path(path).parent / "supervised-run"
    res = train(dataclasses.replace(cfg, epochs=epochs, val_fraction=0.0, select_epoch="last", out_dir=str(run)), frames, None)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_weights(res.model.encoder.backbone, path)
    h = res.history
    info = {"frames": len(frames), "subjects": len(frames.subject_list), "synth_seed": cfg.synth_seed,
            "label_noise": cfg.label_noise, "epochs": epochs, "loss": [float(v) for v in h["loss"]] if "loss" in h else [],
            "seconds": time.perf_counter() - t0, "path": path, "run": str(run)}
    write_json(info, Path(path).with_name("supervised_pretrain.json"))
    return info


def _call(kind, *args):
    try:
        return kind, {"kind": kind, "ok": True, "result": globals()[f"do_{kind}"](*args)}
    except Exception:
        return kind, {"kind": kind, "ok": False, "error": traceback.format_exc()}


# -------------------------------------------------------------------------------------------------------- the driver
def _start_of(kind: str) -> str: return "simclr" if kind == "pretrain" else kind.removeprefix("pretrain_")


def run_grid(a, cells: list[dict]) -> int:
    from concurrent.futures import ProcessPoolExecutor, wait, FIRST_COMPLETED
    import multiprocessing as mp
    out = Path(a.out)
    csv = out / "runs.csv"
    rows = pd.read_csv(csv).to_dict("records") if csv.exists() else []
    scsv = out / "subjects.csv"
    counts = pd.read_csv(scsv).to_dict("records") if scsv.exists() else []
    have = {r["key"] for r in rows}
    study_cells = build_grid(load_args(out)) if (out / "config.json").exists() else []
    stray = len(have - {c["key"] for c in study_cells}) if study_cells else 0
    if stray: print(f"claims: note: {stray} runs in {csv} belong to no cell of this study (another code version's "
                    "configuration); they are kept but never read", flush=True)
    todo, seen = [], set()
    for c in cells:
        if c["key"] not in have and c["key"] not in seen: todo.append(c); seen.add(c["key"])
    n_unique = len({c["key"] for c in cells})
    # the pretraining jobs the runs to do wait for: {start: path}, each made once on the separate SynthAU set
    need_pre = {start: pretrain_path(a, start) for start in PRETRAIN_FILES
                if any(pretrained_start(c["cfg"]) == start for c in todo) and not Path(pretrain_path(a, start)).exists()}
    pre_base = dict(synth_seed=a.synth_seed + 1000, label_noise=0.0, noise_model="symmetric")
    pre_cfgs = {"simclr": dataclasses.replace(method_config("AUNCE@scratch", base_config(a)), **pre_base),
                "supervised": dataclasses.replace(method_config("WCE", base_config(a)), **pre_base)}
    # projected CPU time, recalibrated on every run already measured in this study (not only this call's cells: a
    # subset none of whose runs finished yet is scaled by the others)
    by_key = {c["key"]: c for c in [*study_cells, *cells]}
    done_est = sum(estimate_seconds(by_key[r["key"]]["cfg"]) for r in rows if r["key"] in by_key)
    done_sec = sum(float(r["seconds"]) for r in rows if r["key"] in by_key)
    calib = done_sec / done_est if done_est > 0 and done_sec > 0 else 1.0
    est = sum(estimate_seconds(c["cfg"]) for c in todo) * calib + sum(pretrain_estimate(a, s) for s in need_pre)
    procs = max(1, min(a.procs, len(todo) or 1))
    print(f"claims: {n_unique} distinct runs in {len(cells)} cells of items {a.items}; {n_unique - len(todo)} "
          f"finished in {csv}, {len(todo)} to run" + (f" + pretraining ({', '.join(need_pre)})" if need_pre else "") +
          f"; projected CPU time {est / 3600:.2f} h ({est:.0f} s{'' if calib == 1 else f', x{calib:.2f} from the finished runs'}), "
          f"about {est / procs / 3600:.2f} h on {procs} processes", flush=True)
    if a.dry_run or not todo: return 0
    from aunce.train import synth_root
    datas = {}
    for cfg in [c["cfg"] for c in todo] + [pre_cfgs[s] for s in need_pre]:
        datas.setdefault(str(synth_root(cfg)), cfg)
    failed, t0, n_done = 0, time.perf_counter(), 0
    log = out / "errors.log"
    with ProcessPoolExecutor(procs, mp_context=mp.get_context("spawn"), initializer=_init_worker) as pool:
        futs = {pool.submit(_call, "data", cfg): root for root, cfg in datas.items()}
        for f in futs:
            _, r = f.result()
            if not r["ok"]: raise SystemExit(f"claims.py: generating SynthAU {futs[f]} failed:\n{r['error']}")
        print(f"[{time.perf_counter() - t0:6.0f}s] SynthAU sets ready: {len(datas)}", flush=True)
        pending = {}
        for start, ppath in need_pre.items():
            kind = "pretrain" if start == "simclr" else f"pretrain_{start}"
            pending[pool.submit(_call, kind, pre_cfgs[start], a.pretrain_epochs, ppath)] = None
        waiting = {s: [c for c in todo if pretrained_start(c["cfg"]) == s] for s in need_pre}
        for c in todo:
            if pretrained_start(c["cfg"]) not in need_pre:
                pending[pool.submit(_call, "run", c, a.probe_epochs, str(out / "runs" / c["key"]))] = c
        while pending:
            fin, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for f in fin:
                c = pending.pop(f)
                kind, r = f.result()
                el = time.perf_counter() - t0
                if not r["ok"]:
                    failed += 1
                    with open(log, "a") as fh: fh.write(f"--- {kind} {c and c['key']} {c and c['name']}\n{r['error']}\n")
                    print(f"[{el:6.0f}s] FAILED {kind} {c['name'] if c else ''}: see {log}\n{r['error'].splitlines()[-1]}", flush=True)
                    if kind.startswith("pretrain"): waiting[_start_of(kind)] = []
                    continue
                if kind.startswith("pretrain"):
                    start = _start_of(kind)
                    print(f"[{el:6.0f}s] pretrained the backbone ({start}, {r['result']['epochs']} epochs, "
                          f"{r['result']['seconds']:.0f} s) -> {r['result']['path']}", flush=True)
                    for w in waiting[start]:
                        pending[pool.submit(_call, "run", w, a.probe_epochs, str(out / "runs" / w["key"]))] = w
                    waiting[start] = []
                    continue
                row = r["result"]
                counts += row.pop("_counts")
                rows.append(row); n_done += 1
                pd.DataFrame(counts).to_csv(scsv, index=False)   # the counts first: a run in runs.csv has its counts
                pd.DataFrame(rows).to_csv(csv, index=False)
                left = len(todo) - n_done - failed
                print(f"[{el:6.0f}s] {n_done}/{len(todo)} {c['name']:>14} fold {c['fold']} seed {c['seed']} "
                      f"(item {c['item']} {c['group']}: {c['label']}): F1 {row['f1_clean_tuned']:.1f}, AUC "
                      f"{row['auc_clean']:.1f} {chance_verdict(row['auc_clean'])}, {row['seconds']:.0f} s; "
                      f"about {el / n_done * left / 60:.0f} min left", flush=True)
    return failed


# ------------------------------------------------------------------------------------------------------- the summary
def load_args(out: str | Path) -> argparse.Namespace:
    d = json.loads((Path(out) / "config.json").read_text())["args"]
    return argparse.Namespace(**{**LEGACY_ARGS, **d})


def collect(out: str | Path) -> pd.DataFrame:
    """One row per (cell, run) of the grid saved in `out/config.json` that has a run in `out/runs.csv`, with the
    cell's item, group, label and x beside the run's columns, and `f1_minority` (the mean clean tuned F1 of the AUs
    whose clean training rate, `clean_rates`, is below MINORITY_RATE %)."""
    out = Path(out)
    a = load_args(out)
    cells = pd.DataFrame([{k: c[k] for k in ("item", "group", "label", "x", "key")} for c in build_grid(a)])
    runs = pd.read_csv(out / "runs.csv") if (out / "runs.csv").exists() else pd.DataFrame(columns=["key"])
    if "noise_model" not in runs: runs["noise_model"] = "symmetric"                # runs from before noise models
    if "pretrained_start" not in runs and "pretrained" in runs:
        runs["pretrained_start"] = np.where(runs["pretrained"].astype(bool), "simclr", "none")
    aus = rate_aus(runs)
    if aus and len(runs):
        f1 = runs[[f"{au} f1_clean_tuned" for au in aus]].to_numpy()
        minority = clean_rates(runs, aus) < MINORITY_RATE
        runs["f1_minority"] = np.where(minority.any(1), np.nansum(np.where(minority, f1, 0), 1) / np.maximum(minority.sum(1), 1), np.nan)
    return cells.merge(runs, on="key", how="inner")


def rate_aus(runs: pd.DataFrame) -> list[str]:
    "The AUs with a training occurrence rate column (`AU1 rate`, ...) in runs.csv."
    return [c.split()[0] for c in runs if c.endswith(" rate") and not c.endswith(" clean rate")]


def clean_rates(runs: pd.DataFrame, aus: list[str]) -> np.ndarray:
    """The training split's clean occurrence rates (%) of `aus`, one row per run: runs.csv's `AU* clean rate` where the
    run recorded it, else recovered from the noisy rates of a symmetric-noise run: SynthAU's symmetric model flips a
    uniformly drawn `label_noise` fraction of all labels, so noisy = clean (1 - f) + (1 - clean) f and
    clean = (noisy - f) / (1 - 2 f) (NaN for the other noise models). At label_noise 0.2 every noisy rate is above
    29 %, so a minority threshold on the noisy rates would find no minority AU; on the clean rates bp4d's are
    AU1/2/4/15/23/24, the paper's own."""
    f = runs["label_noise"].to_numpy(float)[:, None] * 100
    sym = (runs["noise_model"] == "symmetric").to_numpy()[:, None] if "noise_model" in runs else True
    keep = (np.abs(1 - 2 * f / 100) > 1e-9) & sym   # at label_noise 0.5 the labels say nothing: no clean rate (NaN)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(keep, (runs[[f"{au} rate" for au in aus]].to_numpy(float) - f) / (1 - 2 * f / 100), np.nan)
    have = [f"{au} clean rate" for au in aus]
    if all(c in runs for c in have):
        rec = runs[have].to_numpy(float)
        est = np.where(np.isnan(rec), est, rec)
    return est


def stat(df: pd.DataFrame, metric: str = "f1_clean_tuned", **sel) -> dict | None:
    "Mean, std, standard error and n of `metric` over the rows matching `sel` (None when there are none)."
    m = df
    for k, v in sel.items(): m = m[m[k] == v]
    v = m[metric].dropna() if metric in m else pd.Series(dtype=float)
    if not len(v): return None
    sd = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    return {"mean": float(v.mean()), "std": sd, "se": sd / math.sqrt(len(v)), "n": int(len(v))}


def fmt(s: dict | None) -> str:
    return "not measured" if s is None else f"{s['mean']:.1f} ± {s['std']:.1f} (n={s['n']})"


def beats(a: dict | None, b: dict | None, k: float = 2.0) -> bool | None:
    "a's mean above b's by more than k combined standard errors (None if either is missing)."
    if a is None or b is None: return None
    return a["mean"] - b["mean"] > k * math.sqrt(a["se"] ** 2 + b["se"] ** 2)


def at_chance(auc: dict | None) -> bool:
    "A `stat` of clean AUC whose mean is within the chance margin of 50 (False when not measured)."
    return auc is not None and bool(chance_verdict(auc["mean"]))


def beats_above_chance(a: dict | None, b: dict | None, auc: dict | None) -> bool | None:
    "`beats(a, b)`, and a's clean AUC (`auc`) measured and above chance (None if a or b is missing)."
    ok = beats(a, b)
    return None if ok is None else bool(ok and auc is not None and not at_chance(auc))


def conditional(results: dict[str, bool | None], what: str) -> str:
    "'holds' / 'holds only when <what>=...' / 'does not hold on SynthAU' / 'not measured' from per-condition results."
    known = {k: v for k, v in results.items() if v is not None}
    if not known: return "not measured"
    yes = [k for k, v in known.items() if v]
    missing = [k for k, v in results.items() if v is None]
    tail = f" ({', '.join(missing)} not measured)" if missing else ""
    if len(yes) == len(results): return "holds"
    if yes: return (f"holds only when {what} = {', '.join(yes)}" if what else f"holds only for {', '.join(yes)}") + tail
    return "does not hold on SynthAU" + tail


TABLE_COLS = ["f1_clean_tuned", "f1_clean", "auc_clean", "accuracy_tuned", "f1_clean_all_positive", "f1_minority",
              "val_auc_best", "last_mean_cos", "best_mean_cos", "last_emb_std", "train_best_epoch", "seconds"]


def common_runs(df: pd.DataFrame) -> pd.DataFrame:
    """The rows whose (fold, seed) every label of their (item, group) has run: means side by side then compare like with
    like when a subset ran some labels on fewer folds (item 2's E is item 1's AUNCE, run on every fold)."""
    if not len(df): return df
    keep = []
    for _, g in df.groupby(["item", "group"], sort=False):
        common = set.intersection(*[set(zip(h["fold"], h["seed"])) for _, h in g.groupby("label", sort=False)])
        keep.append(g[[fold_seed in common for fold_seed in zip(g["fold"], g["seed"])]])
    return pd.concat(keep).sort_index()


def item_table(df: pd.DataFrame, item: int) -> pd.DataFrame:
    "Mean ± std per (group, label) of item `item`'s cells, in grid order, over the folds x seeds every label of the group ran (`common_runs`)."
    d = common_runs(df[df["item"] == item])
    if not len(d): return pd.DataFrame()
    cols = [c for c in TABLE_COLS if c in d]
    ms = mean_std(d, ["group", "label"], cols)
    fine = [c for c in cols if c in ("last_mean_cos", "best_mean_cos", "last_emb_std")]   # cosines: 3 digits
    t = format_mean_std(ms, 1)
    t[fine] = format_mean_std(ms, 3)[fine]
    t["verdict"] = [chance_verdict(v) for v in ms["mean"]["auc_clean"]]
    t["runs"] = ms["n"]["f1_clean_tuned"]
    return t


def per_au_table(df: pd.DataFrame, item: int = 4) -> pd.DataFrame:
    "Per-AU clean tuned F1 (mean over runs) of the NS off/on cells, with the AU's mean training occurrence rate (noisy and clean labels)."
    d = df[(df["item"] == item) & df["group"].str.startswith("NS ")]
    aus = rate_aus(d)
    if not len(d) or not aus: return pd.DataFrame()
    t = d.groupby(["group", "label"], sort=False)[[f"{au} f1_clean_tuned" for au in aus]].mean().round(1)
    t.columns = aus
    t.loc[("training rate % (noisy labels)", ""), :] = d[[f"{au} rate" for au in aus]].mean().round(1).values
    t.loc[("training rate % (clean labels)", ""), :] = clean_rates(d, aus).mean(0).round(1)
    return t


CURVE_COLS = ["epoch", "loss", "mean_cos", "emb_std", "cos_gap", "val_auc"]
COLLAPSED_COS = 0.99     # a kept-epoch mean pairwise cosine above this (and above its first epoch's): collapse
INSTANCE_DROP = 5.0      # loss fallen by more than this % while the clean AUC stays below 56: instance codes
NO_CLASS_GAP = 0.005     # a last-epoch class cosine gap below this (learning runs: 0.015-0.04) while the mean cosine
                         # falls and the clean AUC stays below 60: the encoder spreads everything apart, classes unseen


def read_curves(out: str | Path) -> pd.DataFrame:
    """Every run's per-epoch monitors (loss, mean cosine, embedding spread, class cosine gap, nearest-centroid val
    AUC) from its `metrics.csv`, one row per (key, epoch); runs whose folder is gone (a copied results folder) keep
    their rows from `out/curves.csv`. Writes nothing."""
    out = Path(out)
    old = pd.read_csv(out / "curves.csv") if (out / "curves.csv").exists() else pd.DataFrame(columns=["key", *CURVE_COLS])
    runs = pd.read_csv(out / "runs.csv") if (out / "runs.csv").exists() else pd.DataFrame(columns=["key", "run_dir"])
    parts, have = [], set()
    for key, rd in zip(runs["key"], runs["run_dir"]):
        m = Path(str(rd)) / "metrics.csv"
        if m.exists():
            c = pd.read_csv(m)
            parts.append(c[[k for k in CURVE_COLS if k in c]].assign(key=key)); have.add(key)
    parts = [p for p in [*parts, old[~old["key"].isin(have)]] if len(p)]
    cur = pd.concat(parts, ignore_index=True) if parts else old
    return cur[["key", *[k for k in CURVE_COLS if k in cur]]]


def write_curves(out: str | Path) -> pd.DataFrame:
    "`read_curves`, saved as `out/curves.csv`."
    cur = read_curves(out)
    cur.to_csv(Path(out) / "curves.csv", index=False)
    return cur


def mechanism(loss_drop: float, cos_first: float, cos_last: float, auc: float, cos_gap: float | None = None) -> str:
    """What an encoder's own monitors say happened (means over runs): collapse (every embedding pulled together),
    instance codes (the loss falls, the classes stay unseen), spread without classes (every embedding pushed apart,
    class cosine gap near 0; needs `cos_gap`), at chance, or learns."""
    if cos_last > COLLAPSED_COS and cos_last >= cos_first: return f"collapse (mean cos {cos_first:.3f} -> {cos_last:.4f})"
    if loss_drop > INSTANCE_DROP and auc < 56: return f"instance codes (loss -{loss_drop:.0f} %, clean AUC {auc:.1f})"
    if cos_gap is not None and cos_gap < NO_CLASS_GAP and cos_last < cos_first and auc < 60:
        return (f"spread without classes (mean cos {cos_first:.3f} -> {cos_last:.3f}, class cos gap {cos_gap:.4f}, "
                f"clean AUC {auc:.1f})")
    if chance_verdict(auc): return f"at chance: the loss barely moves (-{loss_drop:.1f} %), no collapse"
    return "learns"


def mechanism_table(df: pd.DataFrame, curves: pd.DataFrame, item: int = 2) -> pd.DataFrame:
    """Per (group, label) of `item`: the loss, mean cosine and nearest-centroid val AUC at the first and last epoch
    and the class cosine gap at the last (means over runs, from `curves`), the clean test AUC, and `mechanism`."""
    d = common_runs(df[df["item"] == item])
    if not len(d) or not len(curves): return pd.DataFrame()
    c = curves.sort_values("epoch")
    first, last = c.groupby("key").first(), c.groupby("key").last()
    rows = []
    for (g, lab), cell in d.groupby(["group", "label"], sort=False):
        k = [x for x in cell["key"] if x in first.index]
        if not k: continue
        f, l = first.loc[k].mean(), last.loc[k].mean()
        drop = 100 * (f["loss"] - l["loss"]) / abs(f["loss"]) if f["loss"] else 0.0
        auc = float(cell["auc_clean"].mean())
        rows.append(dict(group=g, label=lab, loss_first=round(f["loss"], 3), loss_last=round(l["loss"], 3),
                         loss_drop_pct=round(drop, 1), mean_cos_first=round(f["mean_cos"], 4),
                         mean_cos_last=round(l["mean_cos"], 4), cos_gap_last=round(l["cos_gap"], 4),
                         val_auc_first=round(f["val_auc"], 1), val_auc_last=round(l["val_auc"], 1),
                         auc_clean=round(auc, 1), mechanism=mechanism(drop, f["mean_cos"], l["mean_cos"], auc, l["cos_gap"]),
                         runs=len(k)))
    return pd.DataFrame(rows).set_index(["group", "label"]) if rows else pd.DataFrame()


def paper_table7(models: str) -> dict:
    return {m: PAPER_TABLE7[m]["f1"] for m in models}


def verdict_table(df: pd.DataFrame, a=None, curves: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each claim: its verdict on SynthAU, our numbers and the paper's, and the runs behind it. Reads whatever cells
    `df` (from `collect`) has; a claim whose cells are missing is 'not measured'. With `curves` (`write_curves`),
    claim 2 names the models whose monitors show a failure (collapse, instance codes, at chance) and how."""
    df = common_runs(df)
    rows = []
    # 1: contrastive vs cross-entropy
    wce = stat(df, item=1, label="WCE")
    au = {p: stat(df, item=1, label=f"AUNCE@{p}") for p in ("scratch", "paper")}
    sup = stat(df, item=1, label="SupCon")
    megraph_wce = next(r["f1"] for r in PAPER_TABLE6 if r["backbone"].startswith("MEGraph") and r["loss"] == "WCE")
    rows.append(dict(claim="1. AUNCE's contrastive features beat WCE (same encoder and budget)",
                     verdict=conditional({p: beats(s, wce) for p, s in au.items()}, "preset"),
                     ours=f"WCE {fmt(wce)}; SupCon {fmt(sup)}; " + "; ".join(f"AUNCE {p} {fmt(s)}" for p, s in au.items()),
                     paper=f"WCE {megraph_wce}, AUNCE {PAPER_TABLE7['E']['f1']} (Table VI, MEGraph, BP4D)",
                     runs="item 1: clean tuned F1, all folds x seeds"))
    # 2: Table VII ordering
    res, ours = {}, []
    mt = mechanism_table(df, curves, 2) if curves is not None else pd.DataFrame()
    for preset in ("paper", "scratch"):
        s = {m: stat(df, item=2, group=preset, label=m) for m in "ABCDE"}
        res[preset] = beats(s["E"], s["A"])
        got = {m: v["mean"] for m, v in s.items() if v is not None}
        order = " < ".join(f"{m} {v:.1f}" for m, v in sorted(got.items(), key=lambda kv: kv[1]))
        cos = stat(df, "best_mean_cos", item=2, group=preset, label="E")
        ours.append(f"{preset}: {order or 'not measured'}" + (f" (E's kept-epoch mean cos {cos['mean']:.3f})" if cos else ""))
        bad = [f"{lab} {m}" for (g, lab), m in mt["mechanism"].items() if g == preset and m != "learns"] if len(mt) else []
        if bad: ours[-1] += "; failing: " + ", ".join(bad)
    rows.append(dict(claim="2. Table VII: the full model E beats the baseline A (w, PS and NS each add F1)",
                     verdict=conditional(res, "preset"), ours="; ".join(ours),
                     paper=" < ".join(f"{m} {v}" for m, v in paper_table7("ABCDE").items()),
                     runs="item 2: clean tuned F1, all folds x seeds"))
    # 3: PS and label noise: under every noise model, at every noise level above 0, PS beats no PS (model D) and is above chance
    d3 = df[df["item"] == 3]
    noises = sorted(d3["x"].dropna().unique())
    models = list(dict.fromkeys(d3.loc[d3["x"] > 0, "noise_model"])) if "noise_model" in d3 else []
    if models:
        res, cells = {}, []
        for m in models:
            dm = d3[(d3["noise_model"] == m) | (d3["x"] == 0)]
            xs = sorted(dm["x"].dropna().unique())
            for x in [x for x in xs if x > 0]:
                d = stat(dm, x=x, label="AUNCE no PS (D)")
                for lab in PS_LABEL.values():
                    res[f"{lab.replace('AUNCE PS ', '')} at {m} {x:g}"] = beats_above_chance(
                        stat(dm, x=x, label=lab), d, stat(dm, "auc_clean", x=x, label=lab))
            for lab in ["WCE", "SupCon", "AUNCE no PS (D)", *PS_LABEL.values()]:
                ss = [stat(dm, x=x, label=lab) for x in xs]
                aucs = [stat(dm, "auc_clean", x=x, label=lab) for x in xs]
                if all(ss): cells.append(f"{m}: {lab} " + " / ".join(f"{s_['mean']:.1f}" + (" (chance)" if at_chance(a) else "")
                                                                 for s_, a in zip(ss, aucs)))
        rows.append(dict(claim="3. PS makes AUNCE robust to label noise (PS beats no PS, model D, at each noise > 0, above chance)",
                         verdict=conditional(res, ""),
                         ours=f"F1 at noise {' / '.join(f'{x:g}' for x in noises)}: " + "; ".join(cells),
                         paper=f"no noise study; PS adds F1 at the dataset's own labels: D {PAPER_TABLE7['D']['f1']} -> "
                               f"E {PAPER_TABLE7['E']['f1']} (Table VII), best p (.15,.15,.7,0) "
                               f"{max(r['f1'] for r in PAPER_TABLE8)} (Table VIII)",
                         runs="item 3: clean tuned F1, fold 1 x seeds"))
    else:
        rows.append(dict(claim="3. PS makes AUNCE robust to label noise", verdict="not measured", ours="", paper="", runs="item 3"))
    # 4a: NS and minority AUs
    res, ours = {}, []
    mt = mechanism_table(df, curves, 4) if curves is not None else pd.DataFrame()
    for form in FORMS:
        on, off = (stat(df, "f1_minority", item=4, group=f"NS {form}", label=l) for l in ("NS on", "NS off"))
        res[form] = beats(on, off)
        ours.append(f"{form}: off {fmt(off)}, on {fmt(on)}")
        m = mt["mechanism"].get((f"NS {form}", "NS on")) if len(mt) else None
        if m and m != "learns": ours[-1] += f" (NS on fails: {m})"
    minority_aus = [au for au in ("AU1", "AU2", "AU4", "AU15", "AU23", "AU24")]
    pe = np.mean([PAPER_TABLE7["E"][x] for x in minority_aus]); pc = np.mean([PAPER_TABLE7["C"][x] for x in minority_aus])
    rows.append(dict(claim=f"4a. NS (negative re-weighting) helps minority AUs (clean training rate < {MINORITY_RATE:g} %)",
                     verdict=conditional(res, "neg_power"), ours="minority-AU F1: " + "; ".join(ours),
                     paper=f"C {pc:.1f} -> E {pe:.1f} on BP4D's AU1/2/4/15/23/24 (Table VII)",
                     runs="item 4: NS off (C) vs on (E) under scratch, fold 1 x seeds"))
    # 4b: Fig. 5's best point
    res, ours = {}, []
    for form in SWEEP_FORMS:
        for sweep, at in (("beta_min", 1.2), ("beta_maj", 0.4)):
            g = f"{form} {sweep} sweep"
            xs = sorted(df.loc[(df["item"] == 4) & (df["group"] == g), "x"].dropna().unique())
            ss = {x: stat(df, item=4, group=g, x=x) for x in xs}
            ss = {x: s for x, s in ss.items() if s}
            name = f"{form} {sweep}"
            if len(ss) < 2 or not any(abs(x - at) < 1e-9 for x in ss): res[name] = None; continue
            best = max(ss, key=lambda x: ss[x]["mean"])
            paper_pt = next(s for x, s in ss.items() if abs(x - at) < 1e-9)
            auc = stat(df, "auc_clean", item=4, group=g, x=next(x for x in ss if abs(x - at) < 1e-9))
            dead = at_chance(auc)     # the paper's value at chance: no best to speak of
            res[name] = not dead and not beats(ss[best], paper_pt)
            ours.append(f"{name}: best {best:g} ({ss[best]['mean']:.1f}), at {at:g} {paper_pt['mean']:.1f}"
                        + (f" (at chance, AUC {auc['mean']:.1f})" if dead else ""))
    rows.append(dict(claim="4b. Fig. 5: beta_min 1.2 and beta_maj 0.4 are (within noise) the best values, and learn (above chance)",
                     verdict=conditional(res, "sweep"), ours="; ".join(ours) or "not measured",
                     paper=f"best at beta_min {PAPER_FIG5['beta_min']}, beta_maj {PAPER_FIG5['beta_maj']}: {PAPER_FIG5['f1']}",
                     runs="item 4: sweeps under scratch, fold 1 x seeds"))
    # 5: pretrained encoder, from each start
    for start, label in START_LABELS.items():
        res, ours = {}, []
        for preset in ("paper", "scratch"):
            pre, scr = (stat(df, item=5, group=preset, label=l) for l in (label, "from scratch"))
            auc = stat(df, "auc_clean", item=5, group=preset, label=label)
            res[preset] = beats_above_chance(pre, scr, auc)
            ours.append(f"{preset}: scratch {fmt(scr)}, pretrained {fmt(pre)}" + (f" (AUC {auc['mean']:.1f})" if auc else ""))
        w = [stat(df, item=5, group="WCE", label=l) for l in ("from scratch", label)]
        ours.append(f"WCE: scratch {fmt(w[0])}, pretrained {fmt(w[1])}")
        claim = ("5. From a (self-supervised) pretrained encoder the paper's setting learns (beats its from-scratch "
                 "start, above chance)" if start == "simclr" else
                 "5b. From a supervised-pretrained encoder (WCE on other identities) the paper's setting learns (beats "
                 "its from-scratch start, above chance)")
        rows.append(dict(claim=claim, verdict=conditional(res, "preset"), ours="; ".join(ours),
                         paper=f"ImageNet-pretrained MEGraph, lr 1e-5: {PAPER_F1['bp4d']['mean']} (Table II)",
                         runs=f"item 5 ({label}): fold 1 x seeds"))
    return pd.DataFrame(rows).set_index("claim")


# the paper's effect of each paired claim (F1 points, a - b): Table VI MEGraph WCE -> AUNCE, Table VII A -> E, D -> E
# (PS), C -> E on BP4D's minority AUs (NS); the pretrained start has no from-scratch number in the paper
PAPER_EFFECT = {"1": round(PAPER_TABLE7["E"]["f1"] - next(r["f1"] for r in PAPER_TABLE6
                                                         if r["backbone"].startswith("MEGraph") and r["loss"] == "WCE"), 1),
                "2": round(PAPER_TABLE7["E"]["f1"] - PAPER_TABLE7["A"]["f1"], 1),
                "3": round(PAPER_TABLE7["E"]["f1"] - PAPER_TABLE7["D"]["f1"], 1),
                "4a": round(float(np.mean([PAPER_TABLE7["E"][a] - PAPER_TABLE7["C"][a]
                                           for a in ("AU1", "AU2", "AU4", "AU15", "AU23", "AU24")])), 1),
                "5": None}
PAPER_EFFECT["1b"] = PAPER_EFFECT["1"]     # claim 1 again, both methods from the supervised-pretrained start (item 5)
PAPER_EFFECT["3n"] = None   # PS's gain larger under noise than on clean labels: the paper measured no clean-label gain
TABLE7_STEPS = (("B", "A"), ("C", "B"), ("E", "C"), ("E", "D"))   # + w, + PS (on B), + NS (on C), + PS (on D = B + NS)
VERDICTS = ("holds", "does not hold", "cannot tell", "not measured")


def read_counts(out: str | Path | None) -> dict[str, np.ndarray]:
    "`subjects.csv` as {run key: (subjects, AUs, 3) TP/FP/FN}, subjects and AUs in file order (empty when absent)."
    f = Path(out) / "subjects.csv" if out is not None else None
    if f is None or not f.exists(): return {}
    c = pd.read_csv(f)
    res = {}
    for key, g in c.groupby("key", sort=False):
        subs, aus = list(dict.fromkeys(g["subject"])), list(dict.fromkeys(g["au"]))
        m = g.set_index(["subject", "au"])[["tp", "fp", "fn"]].reindex(pd.MultiIndex.from_product([subs, aus]))
        res[key] = m.to_numpy(np.int64).reshape(len(subs), len(aus), 3)
    return res


def paired_claims(df: pd.DataFrame) -> list[dict]:
    """The comparisons behind each claim: claim, item, group (or a pair of groups: a and b then read 'group: label'),
    a and b (labels in the tables), metric, paper effect, and `base`: for claim 3n the group whose a - b is subtracted
    (clean labels), else None."""
    out = []
    def add(claim, item, group, a, b, metric="f1_clean_tuned", effect=None, base=None):
        out.append(dict(claim=claim, item=item, group=group, a=a, b=b, metric=metric, base=base,
                        effect=PAPER_EFFECT[claim] if effect is None else effect))
    for p in ("scratch", "paper"): add("1", 1, "same budget", f"AUNCE@{p}", "WCE")
    for p in ("scratch", "paper"):   # AUNCE - WCE from the same start: claim 1 where the encoder starts trained
        add("1b", 5, (p, "WCE"), f"{p}: {START_LABELS['supervised']}", f"WCE: {START_LABELS['supervised']}")
    for p in ("paper", "scratch"): add("2", 2, p, "E", "A")
    for p in ("paper", "scratch"):   # Table VII's parts, each against the paper's own step: w, PS, NS, PS again
        for a, b in TABLE7_STEPS:
            add("2", 2, p, a, b, effect=round(PAPER_TABLE7[a]["f1"] - PAPER_TABLE7[b]["f1"], 1))
    groups = item3_groups(df)   # clean labels first (PS - D without noise, for reference), then per model by rate
    for g in groups:
        for lab in PS_LABEL.values(): add("3", 3, g, lab, "AUNCE no PS (D)")
    for g in groups[1:] if CLEAN in groups else []:   # is PS's gain about the noise?
        for lab in PS_LABEL.values(): add("3n", 3, g, lab, "AUNCE no PS (D)", base=CLEAN)
    for form in FORMS: add("4a", 4, f"NS {form}", "NS on", "NS off", "f1_minority")
    for p in ("scratch", "paper", "WCE"):
        for label in START_LABELS.values(): add("5", 5, p, label, "from scratch")
    return out


def item3_groups(df: pd.DataFrame) -> list[str]:
    "Item 3's groups in reading order: clean labels, then each noise model (first seen first) at its rates, ascending."
    cells = df[(df["item"] == 3) & (df["x"] > 0)].sort_values("x", kind="stable").drop_duplicates("group")
    models = list(dict.fromkeys(cells["noise_model"]))
    noisy = [g for *_, g in sorted((models.index(m), x, g) for m, x, g in zip(cells["noise_model"], cells["x"], cells["group"]))]
    return ([CLEAN] if ((df["item"] == 3) & (df["group"] == CLEAN)).any() else []) + noisy


def gain_runs(d: pd.DataFrame, groups: tuple[str, ...], a: str, b: str, metric: str) -> pd.DataFrame:
    """Claim 3n's runs: a - b per fold x seed within each of `groups` (a noise cell and clean labels), one row per
    group, fold and seed with columns fold, seed, `label` (the group) and `gain`, so that `compare_methods(...,
    label='label')` pairs a noise cell's gain with the clean-label gain of the same fold and seed."""
    parts = []
    for g in groups:
        p = pair_runs(d[d["group"] == g], a, b, metric, label="label")
        parts.append((p[a] - p[b]).rename("gain").reset_index().assign(label=g))
    return pd.concat(parts, ignore_index=True).dropna(subset=["gain"])


def paired_table(df: pd.DataFrame, out: str | Path | None = None, n_boot: int = 2000) -> pd.DataFrame:
    """Per claim and comparison (SPEC §7): a - b paired over the folds x seeds both ran (`aunce.evaluate.compare_methods`):
    pairs, mean difference, 95 % t interval (`lo`, `hi`, and as text), the 95 % bootstrap interval over test subjects (from `out/subjects.csv`;
    tuned F1 only, every pair's counts needed), the minimum detectable difference, the paper's effect and the verdict
    (holds / does not hold / cannot tell; 'not measured' without pairs)."""
    counts = read_counts(out)
    rows = []
    for c in paired_claims(df):
        if c["base"] is not None:   # claim 3n: (a - b) under noise minus (a - b) on clean labels, same folds x seeds
            d = df[(df["item"] == c["item"]) & df["group"].isin([c["group"], c["base"]])]
            row = dict(claim=c["claim"], comparison=f"({c['a']} - {c['b']}) - the same on {c['base']}", where=c["group"],
                       metric=c["metric"])
            r = compare_methods(gain_runs(d, (c["group"], c["base"]), c["a"], c["b"], c["metric"]), c["group"], c["base"],
                                "gain", c["effect"], label="label")
        else:
            if isinstance(c["group"], tuple):   # a pair across two groups: labels read "group: label"
                d = df[(df["item"] == c["item"]) & df["group"].isin(c["group"])]
                d = d.assign(label=d["group"] + ": " + d["label"])
                where = " vs ".join(c["group"])
            else: d, where = df[(df["item"] == c["item"]) & (df["group"] == c["group"])], c["group"]
            row = dict(claim=c["claim"], comparison=f"{c['a']} - {c['b']}", where=where, metric=c["metric"])
            r = compare_methods(d, c["a"], c["b"], c["metric"], c["effect"], label="label") if len(d) else {"n": 0}
        if not r["n"]:
            rows.append(dict(row, pairs=0, difference=np.nan, lo=np.nan, hi=np.nan, ci95="", subjects_ci95="", mdd=np.nan,
                             paper_effect=c["effect"], verdict="not measured")); continue
        boot = ""   # over test subjects: a paired tuned F1 whose runs all have their counts (not for claim 3n)
        if c["base"] is None and c["metric"] == "f1_clean_tuned":
            keys = pair_runs(d, c["a"], c["b"], "key", label="label")
            if len(keys) and all(k in counts for k in keys.to_numpy().ravel()):
                b = bootstrap_paired([counts[k] for k in keys[c["a"]]], [counts[k] for k in keys[c["b"]]], n_boot=n_boot)
                boot = f"[{b['lo']:+.1f}, {b['hi']:+.1f}]"
        rows.append(dict(row, pairs=r["n"], difference=round(r["mean"], 2), lo=r["lo"], hi=r["hi"],
                         ci95=f"[{r['lo']:+.1f}, {r['hi']:+.1f}]" if np.isfinite(r["lo"]) else "n < 2",
                         subjects_ci95=boot or "n/a", mdd=round(r["mdd"], 1) if np.isfinite(r["mdd"]) else np.nan,
                         paper_effect=c["effect"], verdict=r["verdict"]))
    t = pd.DataFrame(rows)
    if len(t):
        t["pairs"] = t["pairs"].astype(int)
        t["paper_effect"] = [("none" if e is None or (isinstance(e, float) and np.isnan(e)) else f"{e:+.1f}") for e in t["paper_effect"]]
    return t


ITEM_TITLES = {1: "1. Contrastive vs cross-entropy", 2: "2. Table VII (models A-E) under both presets",
               3: "3. Positive sampling and label noise", 4: "4. Negative re-weighting and imbalance",
               5: "5. A pretrained encoder (`pretrained`: SimCLR, no AU labels; `pretrained, supervised`: WCE on other identities)"}


def cpu_time_line(df: pd.DataFrame, out: str | Path) -> str:
    "The study's measured CPU time (its runs' seconds, one thread each, and the pretraining jobs) and how to run a subset."
    runs = df.drop_duplicates("key")
    seconds = float(runs["seconds"].sum()) if "seconds" in runs else 0.0
    pre = [json.loads(f.read_text()).get("seconds", 0.0) for f in sorted(Path(out).glob("pretrain/*pretrain.json"))]
    per_item = ", ".join(f"item {i} {len(g)}" for i, g in df.groupby("item"))
    return (f"Measured: {len(runs)} distinct runs ({per_item} cells), {seconds / 3600:.2f} CPU h at one "
            f"thread each" + (f", plus {sum(pre) / 3600:.2f} h of pretraining ({len(pre)} jobs)" if pre else "") +
            ". A subset runs only its cells: `benchmarks/claims.py --out DIR --items 3 --seeds 0,1` (`--folds`, "
            "`--noise`, `--noise-models`, `--beta-min`, `--beta-maj` likewise; `--dry-run` prints its size and projected time).")


def write_summary(out: str | Path, quick: bool = False) -> str:
    out = Path(out)
    df = collect(out)
    curves = write_curves(out)
    a = load_args(out)
    md = ["# The paper's claims on SynthAU", "",
          f"`{' '.join(json.loads((out / 'config.json').read_text())['argv'])}`", ""]
    if a.quick: md += ["**--quick run: a tiny grid that checks the pipeline; these numbers are not results.**", ""]
    md += [f"SynthAU {a.profile} (synth seed {a.synth_seed}), {a.subjects} subjects x {a.frames} frames ({a.videos} "
           f"videos each), tiny16 encoder (d=64; the head of each preset: spatial for scratch, ANFL for paper), {a.image_size} px, {a.epochs} epochs, batch {a.batch_size}, linear probe "
           f"{a.probe_epochs} epochs, folds {a.folds} (items 1-2; items 3-5 fold {ints(a.folds)[0]}), seeds {a.seeds}. "
           "F1 (%) on the test fold against SynthAU's clean labels, per-AU thresholds tuned on held-out training "
           "subjects; mean ± std over runs; `f1_minority`: mean F1 of AUs with clean training rate below "
           f"{MINORITY_RATE:g} %; mean_cos / emb_std: the encoder's validation embeddings (collapse shows as mean cos "
           "near 1); 'at chance': clean AUC within 2 points of 50. Label noise: SynthAU's noise models "
           f"{', '.join(names(a.noise_models))} (item 3; the other items train at symmetric 0.2).", "",
           cpu_time_line(df, out), "",
           "## Verdicts: paired differences (SPEC §7)", "",
           "Per claim, a - b over the folds x seeds both methods ran (tuned F1 on clean test labels; claim 4a the "
           "minority-AU F1): the mean paired difference, its 95 % t interval over the pairs, the 95 % bootstrap interval "
           "over test subjects, the minimum detectable difference (80 % power at 5 %), and the verdict: 'holds' when "
           "the t interval excludes 0 in the claimed direction, 'does not hold' when it excludes the paper's effect, "
           "'cannot tell' otherwise. Claim 3n: PS's gain (PS - D) under a noise model minus its gain on clean labels, "
           "paired on fold x seed: 'holds' when PS gains more under noise than without (a robustness to noise), "
           "'does not hold' when less (the paper has no clean-label number to set against it).", "",
           to_markdown(paired_table(df, out).drop(columns=["lo", "hi"]).set_index("claim")), "",
           "## Issue 9's verdicts (means ± std, a difference of two standard errors)", "",
           to_markdown(verdict_table(df, a, curves))]
    for item, title in ITEM_TITLES.items():
        t = item_table(df, item)
        md += ["", f"## {title}", "", to_markdown(t.reset_index().set_index("group")) if len(t) else "not measured"]
        if item == 4:
            p = per_au_table(df)
            if len(p): md += ["", "Per-AU clean tuned F1, NS off vs on, and the AU's training occurrence rate:", "",
                              to_markdown(p.reset_index().set_index("group"))]
        if item in (2, 4):
            mt = mechanism_table(df, curves, item)
            if len(mt): md += ["", "What the encoders' monitors say (first -> last epoch; means over runs):", "",
                               to_markdown(mt.reset_index().set_index("group"))]
    text = "\n".join(md) + "\n"
    (out / "summary.md").write_text(text)
    return text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="the whole pipeline on a tiny grid (numbers mean nothing)")
    ap.add_argument("--items", default="1,2,3,4,5")
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    for k in FULL: ap.add_argument("--" + k.replace("_", "-"), default=None, type=type(FULL[k]) if not isinstance(FULL[k], str) else str)
    ap.add_argument("--profile", default="bp4d")
    ap.add_argument("--synth-seed", type=int, default=0)
    ap.add_argument("--cache-dir", default="runs/cache")
    ap.add_argument("--dry-run", action="store_true", help="print the grid's size and projected time, run nothing")
    ap.add_argument("--summary-only", action="store_true", help="rewrite summary.md from runs.csv")
    a = ap.parse_args(argv)
    for k, v in (QUICK if a.quick else FULL).items():
        if getattr(a, k) is None: setattr(a, k, v)
    try: check_noise_args(a)
    except ValueError as e: ap.error(str(e))
    out = check_writable_dir(a.out, "--out"); out.mkdir(parents=True, exist_ok=True)
    a.out = str(out)
    if not a.summary_only:
        cfg_path = out / "config.json"
        cells = build_grid(a)                 # this call's cells; the study's config covers every subset run here
        study = vars(a).copy()
        if cfg_path.exists():   # a resumed study keeps its configuration, so runs.csv never mixes rows of two
            old = {**LEGACY_ARGS, **json.loads(cfg_path.read_text())["args"]}
            for k in CONFIG_ARGS:
                if old.get(k) != getattr(a, k):
                    opt = "--" + k.replace("_", "-")
                    ap.error(f"{opt} is {getattr(a, k)!r} here but {old.get(k)!r} in the study at {out} (config.json): a "
                             f"resumed study keeps its configuration so that runs.csv never mixes rows of two; pass "
                             f"{opt} {old.get(k)} (or drop it), or choose another --out")
            for k in SELECTION_ARGS:        # the union of the subsets run here
                conv = floats if k in ("noise", "beta_min", "beta_maj") else ints if k in ("items", "folds", "seeds") else names
                both = list(dict.fromkeys(conv(old.get(k, "")) + conv(getattr(a, k))))
                if k != "noise_models": both = sorted(both)
                study[k] = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in both)
        write_json({"argv": sys.argv if argv is None else ["benchmarks/claims.py", *argv], "args": study}, cfg_path)
        if not a.dry_run: name_runs_file(out / "runs.csv")
        failed = run_grid(a, cells)
        if a.dry_run: return 0
    else:
        failed = 0
        name_runs_file(out / "runs.csv")
    text = write_summary(out)
    print(text)
    print(f"wrote {out}/runs.csv and {out}/summary.md" + (f"; {failed} runs failed (see {out}/errors.log)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
