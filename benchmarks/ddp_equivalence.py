"""One process vs `torchrun --nproc_per_node 2` (gloo, CPU) on the same `aunce-train` run: the loss of the first
step, the loss of epoch 0 and the largest weight difference after the epoch (relative to the tensor's largest
absolute value), for AUNCE, WCE and SupCon (issue 21: two processes should train the same model as one, up to
float32 round-off). Beside it, as the yardstick of round-off, one process with 1 thread vs with 2 threads: the same
arithmetic summed in another order.

    python benchmarks/ddp_equivalence.py                          # tiny backbone, scratch preset (ANFL head),
                                                                  # SynthAU 6 x 40, 32 px, batch 16, 1 epoch, seed 0
                                                                  # (about 4 minutes on 2 cores)
    python benchmarks/ddp_equivalence.py --label after --save benchmarks/results/ddp_equivalence.json
    python benchmarks/ddp_equivalence.py --show benchmarks/results/ddp_equivalence.json   # the stored rows only
    git archive 7f5de30 aunce | tar -x -C /tmp/before             # another version of the package (here: before
    python benchmarks/ddp_equivalence.py --code /tmp/before --label before --no-floor   # issue 21) in its place
    python benchmarks/ddp_equivalence.py --extra --sync-bn false  # further aunce-train options for every run

The weights compared are `model.safetensors` (the weights after the last epoch). "All tensors" takes every
parameter and BatchNorm buffer. "Parameters with a gradient" leaves out the buffers and the parameters whose
gradient is zero in exact arithmetic (a bias added right before a BatchNorm, which subtracts it again: found by a
float64 backward of the run's model): AdamW turns their round-off gradients (~1e-16 of the others in float64,
~1e-9 in float32) into steps of about lr / 10, so they, and the running means of the BatchNorms behind them,
drift apart in any two runs whose sums round differently, without changing what the model computes in training.
`--head` is passed only to a version whose `aunce-train` has that option (the head came after issue 21).
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, tempfile
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUN = ["--dataset", "synth", "--subjects", "6", "--frames", "40", "--backbone", "tiny", "--preset", "scratch",
       "--batch-size", "16", "--epochs", "1", "--seed", "0", "--embed-dim", "16", "--device", "cpu",
       "--no-progress", "--quiet", "--probe-epochs", "1", "--monitor-frames", "32"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0"}


def cli(code: str = "") -> list[str]:
    "The `aunce-train` command of this checkout, or of the `aunce` package in folder `code`."
    return [sys.executable, __file__, "--cli-from", code] if code else [str(BIN / "aunce-train")]


def run(method: str, out: Path, cache: Path, ranks: int, extra: list[str], code: str = "", threads: int = 1) -> dict:
    cmd = ([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", str(ranks), "--no-python"] if ranks > 1 else []) + \
          [*cli(code), *RUN, "--threads", str(threads), "--method", method, "--cache-dir", str(cache),
           "--out-dir", str(out), *extra]
    r = subprocess.run(cmd, env={**ENV, "OMP_NUM_THREADS": str(threads)}, capture_output=True, text=True, cwd=ROOT)
    if r.returncode: raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
    b, m = pd.read_csv(out / "batches.csv"), pd.read_csv(out / "metrics.csv")
    from safetensors.torch import load_file
    return {"step0": float(b["loss"].iloc[0]), "epoch0": float(m["loss"].iloc[0]),
            "weights": load_file(str(out / "model.safetensors")), "dir": out}


def parameters_with_gradient(run_dir: Path) -> set[str]:
    """The names of the parameters of the run's model whose gradient is not zero in exact arithmetic: a float64
    backward of a random weighting of the outputs, in training mode, from the run's initial weights."""
    from aunce.train import TrainConfig, build_model
    cfg = TrainConfig.from_dict(json.loads((run_dir / "config.json").read_text()))
    model = build_model(cfg, len(json.loads((run_dir / "split.json").read_text())["aus"])).double().train()
    g = torch.Generator().manual_seed(0)
    out = model(torch.randn(8, 3, cfg.image_size, cfg.image_size, generator=g, dtype=torch.float64))
    (out * torch.randn(out.shape, generator=g, dtype=torch.float64)).sum().backward()
    scale = max(float(p.grad.abs().max()) for p in model.parameters() if p.grad is not None)
    return {k for k, p in model.named_parameters() if p.grad is not None and float(p.grad.abs().max()) > 1e-12 * scale}


def max_rel_diff(a: dict, b: dict, only: set[str] | None = None) -> tuple[float, str]:
    "Largest `max|a - b| / max|a|` over the tensors (floating point ones, those in `only`), and its tensor's name."
    worst, name = 0.0, ""
    for k, v in a.items():
        if not v.is_floating_point() or (only is not None and k not in only): continue
        d = float((v.double() - b[k].double()).abs().max() / v.double().abs().max().clamp_min(1e-12))
        if d > worst: worst, name = d, k
    return worst, name


def compare(label: str, method: str, what: str, a: dict, b: dict, grad_names: set[str]) -> dict:
    rel, name = max_rel_diff(a["weights"], b["weights"])
    grel, gname = max_rel_diff(a["weights"], b["weights"], grad_names)
    return {"label": label, "method": method, "compared": what, "step0_a": a["step0"], "step0_b": b["step0"],
            "epoch0_a": a["epoch0"], "epoch0_b": b["epoch0"], "weight_rel": rel, "tensor": name,
            "grad_rel": grel, "grad_tensor": gname}


def table(rows: list[dict]) -> str:
    out = ["| code | method | compared (a vs b) | step 0 loss a | step 0 loss b | epoch 0 loss a | epoch 0 loss b "
           "| largest weight diff (rel.), all tensors | largest weight diff (rel.), parameters with a gradient |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['label']} | {r['method']} | {r['compared']} | {r['step0_a']:.6f} | {r['step0_b']:.6f} | "
                   f"{r['epoch0_a']:.6f} | {r['epoch0_b']:.6f} | {r['weight_rel']:.2e} `{r['tensor']}` | "
                   f"{r['grad_rel']:.2e} `{r['grad_tensor']}` |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default="aunce,wce,supcon")
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--head", default="anfl", help="the per-AU head, for versions that have the option ('' : the preset's)")
    ap.add_argument("--no-floor", action="store_true", help="skip the 1-thread vs 2-thread reference run")
    ap.add_argument("--label", default="now", help="the name of this code's rows in the table")
    ap.add_argument("--save", default="", help="add (or replace) this label's rows in a JSON file; print all its rows")
    ap.add_argument("--show", default="", help="print the rows stored in this JSON file and stop")
    ap.add_argument("--code", default="", help="a folder holding another version's `aunce` package to run instead")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="further aunce-train options (every run)")
    a = ap.parse_args(argv)
    if a.show:
        print(table(json.loads(Path(a.show).read_text()))); return 0
    helptext = subprocess.run([*cli(a.code), "--help"], env=ENV, capture_output=True, text=True, cwd=ROOT).stdout
    extra = ["--image-size", str(a.image_size), *(["--head", a.head] if a.head and "--head " in helptext else []), *a.extra]
    print(f"aunce-train {' '.join(RUN + extra)} --method M (--threads 1, or 2 for the reference)", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for method in a.methods.split(","):
            one = run(method, tmp / f"{method}-1", tmp / "cache", 1, extra, a.code)
            two = run(method, tmp / f"{method}-2", tmp / "cache", 2, extra, a.code)
            names = parameters_with_gradient(one["dir"])
            rows.append(compare(a.label, method, "1 process vs torchrun 2 processes", one, two, names))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
            if not a.no_floor:
                thr = run(method, tmp / f"{method}-t2", tmp / "cache", 1, extra, a.code, threads=2)
                rows.append(compare(a.label, method, "1 process: 1 thread vs 2 threads", one, thr, names))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
    if a.save:
        p = Path(a.save)
        old = [r for r in (json.loads(p.read_text()) if p.exists() else []) if r["label"] != a.label]
        rows = old + rows
        p.parent.mkdir(parents=True, exist_ok=True); p.write_text(json.dumps(rows, indent=1) + "\n")
    print(table(rows))
    return 0


def cli_from(code: str, argv: list[str]) -> int:
    "`aunce-train` of the `aunce` package in folder `code` (not the installed one)."
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")
                        and "editable" not in getattr(type(f), "__module__", "")]
    sys.path.insert(0, str(Path(code).resolve()))
    from aunce.cli import train_cli
    import aunce
    assert Path(aunce.__file__).resolve().is_relative_to(Path(code).resolve()), aunce.__file__
    return train_cli(argv)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--cli-from": sys.exit(cli_from(sys.argv[2], sys.argv[3:]))
    sys.exit(main())
