"""Cost as the work grows: one epoch of training on SynthAU at 5k and at 50k frames, each in a fresh process, and the
seconds per 1k frames of every part of it (issue 29 item 4). Only the step may cost more per frame as the data grows;
everything around it (loading, the epoch's monitors and validation, the setup, the checkpoint and logs, preparing the
frame table) should cost the same per 1k frames at 50k as at 5k.

    .venv/bin/python benchmarks/cost_growth.py                       # --sizes 5000,50000: about 10 min on a 2-core CPU
    .venv/bin/python benchmarks/cost_growth.py --sizes 200,400 --batch-size 16 --monitor-frames 64   # a quick look
    .venv/bin/python benchmarks/cost_growth.py --json runs/cost_growth.json

A size N is N SynthAU frames in all (`--subjects` subjects, N / subjects frames each, rendered at `--synth-size` px and
cached under `--cache-dir`); fold 1 of 12 subjects trains on 6 of them (half the frames) and validates on 2 (a sixth). Every size runs in a
process of its own (so that its peak resident memory is its own), pinned to one thread: `aunce.train.train` with a
small model (backbone `tiny16`, head `spatial`, preset `scratch`, one epoch). Per size it measures:

  generate      rendering SynthAU (`aunce.config.ensure_synth`; "cached" when the cache had it already)
  load_frames   reading the frame table of the fold (`aunce.config.prepare_data`) and the validation split
  loading       the epoch's time waiting for the DataLoader (decode, align, two views)
  step          the epoch's forward, loss, backward and optimiser steps
  monitors+val  the epoch's monitors and validation (`eval_fn`: the embeddings of the reference and validation frames)
  other         the rest of `train`: split statistics, the model, the checkpoint, metrics and logs
  peak RSS      `ru_maxrss` of the process; its growth over the RSS after the imports, per 1k frames

The loading, step and monitor seconds come from the training history when it has them (per-epoch `load_s`, `step_s`,
`eval_s`); otherwise from timers this script puts around `aunce.train`'s loader (`make_train_loader`) and monitor
(`_val_monitor`), the step being the epoch's seconds less the loading. The output says which. The last columns are
the ratio of the largest size's per-1k cost to the smallest's: <= 1.2 is "flat", above it "GROWS"."""
import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import argparse, json, math, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAT = 1.2          # per-1k ratio (largest size / smallest) up to which a cost counts as flat
HISTORY_KEYS = {"load_s": "loading", "step_s": "step", "eval_s": "monitors+val"}


def rss_mb() -> float:
    "Current resident memory of this process, MiB (Linux /proc)."
    with open("/proc/self/statm") as f: return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def child(a) -> dict:
    "One size, in this (fresh) process: generate, load, train one epoch; the timings as a dict."
    import torch
    torch.set_num_threads(1)
    import aunce.train as T
    from aunce.config import TrainConfig, ensure_synth, prepare_data, split_train_val, synth_root
    import timm, sklearn.metrics, aunce.encoder, aunce.data, aunce.loss, aunce.transforms   # what train imports, in the base
    base_mb = rss_mb()
    n = a.child
    per = max(1, math.ceil(n / a.subjects))
    cfg = TrainConfig(dataset="synth", subjects=a.subjects, frames=per, videos=2, image_size=a.image_size,
                      aligned_size=a.aligned_size, synth_size=a.synth_size, cache_dir=a.cache_dir, preset="scratch",
                      backbone=a.backbone, head="spatial", embed_dim=a.embed_dim, epochs=1, batch_size=a.batch_size,
                      monitor_frames=a.monitor_frames, threads=1, num_workers=0, device="cpu", progress=False,
                      out_dir=str(Path(a.out_dir) / f"n{n}"), seed=0)
    out = {"size": n, "subjects": a.subjects, "frames_per_subject": per, "frames": a.subjects * per}
    cached = (synth_root(cfg) / "synthau.json").exists()
    t = time.perf_counter(); ensure_synth(cfg); out["generate_s"] = None if cached else time.perf_counter() - t
    t = time.perf_counter()
    train_frames, _ = prepare_data(cfg)
    tr, va = split_train_val(cfg, train_frames)
    out["load_frames_s"] = time.perf_counter() - t
    out.update(train_frames=len(tr), val_frames=len(va) if va is not None else 0)

    acc = {"load": 0.0, "eval": 0.0}
    timers = []          # the internals timed here, when aunce.train still has them
    if hasattr(T, "make_train_loader"):
        make = T.make_train_loader
        class Timed:
            def __init__(self, loader): self.loader = loader
            def __len__(self): return len(self.loader)
            def __iter__(self):
                it = iter(self.loader)
                while True:
                    t0 = time.perf_counter()
                    try: b = next(it)
                    except StopIteration: acc["load"] += time.perf_counter() - t0; return
                    acc["load"] += time.perf_counter() - t0
                    yield b
        T.make_train_loader = lambda *args, **kw: Timed(make(*args, **kw))
        timers.append("make_train_loader")
    if hasattr(T, "_val_monitor"):
        vm = T._val_monitor
        def timed_monitor(*args, **kw):
            m = vm(*args, **kw)
            def monitor(model, epoch):
                t0 = time.perf_counter(); r = m(model, epoch); acc["eval"] += time.perf_counter() - t0; return r
            return monitor
        T._val_monitor = timed_monitor
        timers.append("_val_monitor")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = time.perf_counter()
        res = T.train(cfg, tr, va)
        out["train_s"] = time.perf_counter() - t
    out["warnings"] = sorted({str(w.message)[:160] for w in caught})
    h = res.history.iloc[-1].to_dict()
    out["epoch_s"] = float(h["seconds"])
    out["images"] = int(h["images"])
    have = [k for k in HISTORY_KEYS if k in h and h[k] == h[k]]
    if len(have) == len(HISTORY_KEYS):
        out["source"] = "history"
        out.update(loading_s=float(h["load_s"]), step_s=float(h["step_s"]), eval_s=float(h["eval_s"]))
    else:
        out["source"] = "timers"
        out["timers"] = timers
        out.update(loading_s=acc["load"] if "make_train_loader" in timers else float("nan"),
                   eval_s=acc["eval"] if "_val_monitor" in timers else float("nan"))
        out["step_s"] = out["epoch_s"] - (out["loading_s"] if out["loading_s"] == out["loading_s"] else 0.0)
    out["history_time_keys"] = sorted(k for k in h if k.endswith("_s") and k != "images_per_s")
    parts = out["epoch_s"] + (out["eval_s"] if out["eval_s"] == out["eval_s"] else 0.0)
    if out["source"] == "history": parts = out["loading_s"] + out["step_s"] + out["eval_s"]
    out["other_s"] = out["train_s"] - parts
    out["base_rss_mb"] = base_mb
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024      # kB on Linux
    out["val_auc"] = float(h.get("val_auc", float("nan")))
    return out


ROWS = [("generate SynthAU", "generate_s"), ("load_frames + split", "load_frames_s"), ("loading (DataLoader)", "loading_s"),
        ("step (fwd, loss, bwd, AdamW)", "step_s"), ("monitors + validation", "eval_s"),
        ("other (setup, checkpoint, logs)", "other_s"), ("train() in all", "train_s")]


def verdict(ratio: float) -> str:
    if ratio != ratio: return "-"
    return "flat" if ratio <= FLAT else "GROWS"


def report(rows: list[dict], a) -> tuple[str, dict]:
    "The printed table and the per-1k ratios of the largest size to the smallest."
    lo, hi = rows[0], rows[-1]
    w = 15
    src = {r["source"] for r in rows}
    lines = [f"cost growth: SynthAU ({a.subjects} subjects, rendered at {a.synth_size} px), {a.backbone} + spatial head, "
             f"scratch preset, {a.image_size} px crops of {a.aligned_size} px faces, batch {a.batch_size}, "
             f"monitor_frames {a.monitor_frames}, 1 epoch, 1 thread, cpu; each size in a fresh process",
             "loading / step / monitors from: " + ("the training history (load_s, step_s, eval_s)" if src == {"history"} else
             "timers around aunce.train.make_train_loader and aunce.train._val_monitor (the history has no "
             "load_s/step_s/eval_s; step = epoch seconds - loading)" if src == {"timers"} else "mixed: " + ", ".join(sorted(src))),
             ""]
    head = f"{'':34}" + "".join(f"{r['size']:>{w}}" for r in rows) + f"{'per-1k ratio':>14}  verdict"
    lines.append(head)
    fr = ["{}/{}/{}".format(r["frames"], r["train_frames"], r["val_frames"]) for r in rows]
    lines.append(f"{'frames: all / train / val':34}" + "".join(f"{x:>{w}}" for x in fr))
    lines.append(f"{'faces stepped (2 views each)':34}" + "".join(f"{r['images']:>{w}}" for r in rows))
    lines.append("seconds per 1k frames (of all N):")
    ratios = {}
    for name, k in ROWS:
        vals = [r[k] for r in rows]
        per = [None if v is None else 1000 * v / r["frames"] for v, r in zip(vals, rows)]
        ratio = per[-1] / per[0] if per[0] and per[-1] is not None else float("nan")
        ratios[k] = ratio
        cells = "".join(f"{'cached':>{w}}" if p is None else f"{p:>{w}.3f}" for p in per)
        note = "  (the step: not held to it)" if k == "step_s" else ""
        lines.append(f"  {name:32}" + cells + (f"{ratio:>14.2f}  {verdict(ratio)}{note}" if ratio == ratio else f"{'-':>14}  -"))
    lines.append(f"{'seconds in all: train()':34}" + "".join(f"{r['train_s']:>{w}.1f}" for r in rows))
    lines.append(f"{'peak RSS MiB':34}" + "".join(f"{r['peak_rss_mb']:>{w}.0f}" for r in rows))
    grow = [1000 * (r["peak_rss_mb"] - r["base_rss_mb"]) / r["frames"] for r in rows]
    ratios["rss_growth"] = grow[-1] / grow[0] if grow[0] > 0 else float("nan")
    lines.append(f"  {'growth over imports, MiB per 1k':32}" + "".join(f"{g:>{w}.2f}" for g in grow) +
                 f"{ratios['rss_growth']:>14.2f}  {verdict(ratios['rss_growth'])}")
    lines.append(f"{'val AUC (1 epoch)':34}" + "".join(f"{r['val_auc']:>{w}.1f}" for r in rows))
    grows = [name for name, k in ROWS if k not in ("step_s", "train_s") and ratios[k] == ratios[k] and ratios[k] > FLAT]
    if ratios["rss_growth"] == ratios["rss_growth"] and ratios["rss_growth"] > FLAT: grows.append("peak RSS")
    lines.append("")
    lines.append(f"{hi['size'] / lo['size']:g}x the frames: " + (
        f"nothing outside the step grows faster than the frame count (every per-1k ratio <= {FLAT})" if not grows else
        f"GROWS faster than the frame count (per-1k ratio > {FLAT}): {', '.join(grows)}"))
    for r in rows:
        for m in r.get("warnings", []): lines.append(f"note ({r['size']} frames): warning {m}")
    return "\n".join(lines), ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="5000,50000", help="SynthAU frames in all, comma-separated (default 5000,50000)")
    ap.add_argument("--subjects", type=int, default=12, help="SynthAU subjects at every size (default 12)")
    ap.add_argument("--backbone", default="tiny16")
    ap.add_argument("--image-size", type=int, default=48)
    ap.add_argument("--aligned-size", type=int, default=56)
    ap.add_argument("--synth-size", type=int, default=64)
    ap.add_argument("--embed-dim", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--monitor-frames", type=int, default=1024)
    ap.add_argument("--cache-dir", default=str(ROOT / "runs" / "cache"), help="SynthAU cache (default runs/cache)")
    ap.add_argument("--out-dir", default=str(ROOT / "runs" / "cost_growth"), help="the run folders, one per size")
    ap.add_argument("--json", default=None, help="also write the measurements and ratios here")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-json", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        Path(a.child_json).write_text(json.dumps(child(a)))
        return
    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]
    if len(sizes) < 2 or sorted(sizes) != sizes: ap.error(f"--sizes {a.sizes}: at least two sizes, smallest first")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    rows, t_all = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            f = Path(d) / f"{n}.json"
            cmd = [sys.executable, __file__, "--child", str(n), "--child-json", str(f)]
            for k in ("subjects", "backbone", "image_size", "aligned_size", "synth_size", "embed_dim", "batch_size",
                      "monitor_frames", "cache_dir", "out_dir"):
                cmd += ["--" + k.replace("_", "-"), str(getattr(a, k))]
            r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
            if r.returncode != 0 or not f.exists():
                sys.exit(f"cost_growth: the run of {n} frames failed (exit {r.returncode}):\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
            rows.append(json.loads(f.read_text()))
    text, ratios = report(rows, a)
    print(text)
    print(f"(benchmark wall time {time.perf_counter() - t_all:.0f} s)")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"rows": rows, "per_1k_ratio": ratios, "flat_up_to": FLAT,
                                            "settings": {k: v for k, v in vars(a).items() if not k.startswith("child")}},
                                           indent=1))


if __name__ == "__main__":
    main()
