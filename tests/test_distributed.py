"""Distributed training on the CPU with the gloo backend, two processes: the loss and gradients of every rank equal
the single-process loss on the global batch (float64, 1e-10), one DDP optimiser step equals one single-process
step, and `aunce-train` under torchrun writes a run folder and resumes after a kill."""
import gc, json, os, shutil, signal, socket, subprocess, sys, time
from pathlib import Path
import pytest
import torch
import torch.multiprocessing as mp

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
B, K, D, WORLD = 6, 3, 4, 2   # the global batch (B images, two views), split over two ranks
TOL = 1e-10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _spawn(fn, *args):
    port = _free_port()
    mp.spawn(_worker, args=(fn, port, args), nprocs=WORLD, join=True)


def _worker(rank, fn, port, args):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(WORLD),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        fn(rank, *args)
        # Free DDP's reducer and wait for the other rank before the group goes: a rank that tore gloo down while its
        # peer was still in a collective (or while a reducer was still alive) died of SIGABRT in about 1 run in 8.
        gc.collect(); dist.barrier()
    finally: dist.destroy_process_group()


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(B, K, D, generator=g, dtype=torch.float64)
    z2 = torch.randn(B, K, D, generator=g, dtype=torch.float64)
    y = (torch.rand(B, K, generator=g) < torch.tensor([0.3, 0.5, 0.7])).long()
    y[1, 2] = -1
    return z1, z2, y


W8 = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
CASES = {   # name: (method, loss kwargs)
    "highest": ("aunce", dict(p=(1, 0, 0, 0))), "augmented": ("aunce", dict(p=(0, 1, 0, 0))),
    "centroid": ("aunce", dict(p=(0, 0, 1, 0))), "lowest": ("aunce", dict(p=(0, 0, 0, 1))),
    "mixed_draws": ("aunce", dict(p=(0.3, 0.2, 0.4, 0.1), draw="anchor_au")),
    "hcl": ("aunce", dict(p=(0.15, 0.15, 0.7, 0), neg_power="hcl")),
    "paper_eq4": ("aunce", dict(p=(0, 0, 1, 0), neg_power="paper_eq4")),
    "supcon": ("supcon", {}), "wce": ("wce", {}),
}


def _loss_case(rank, name):
    from aunce.distributed import dist_info, ddp_contrastive_loss, ddp_wce_loss
    from aunce.loss import aunce_loss, supcon_loss, wce_loss
    method, kw = CASES[name]
    info = dist_info(); assert info.world_size == WORLD and info.rank == rank
    z1, z2, y = _batch()
    b = B // WORLD; sl = slice(rank * b, (rank + 1) * b)
    common = dict(tau=0.3, minority=torch.tensor([1, 0, 1]), beta_min=1.3, beta_maj=0.5)
    seed = 1234  # the same generator state on every rank and in the reference: the same global draw
    if method == "wce":
        x = z1[:, :, 0].clone()
        ref_x = x.clone().requires_grad_(); ref = wce_loss(ref_x, y, W8); ref.backward()
        loc = x[sl].clone().requires_grad_()
        out = ddp_wce_loss(loc, y[sl], W8)
        out.backward()
        assert abs(out.item() - ref.item()) < TOL, (out.item(), ref.item())
        assert (loc.grad / WORLD - ref_x.grad[sl]).abs().max() < TOL   # after DDP's averaging
        return
    if method == "aunce":
        fn = lambda a, c, yy, **r: aunce_loss(a, c, yy, **common, **kw, generator=torch.Generator().manual_seed(seed), **r)
    else:
        fn = lambda a, c, yy, **r: supcon_loss(a, c, yy, tau=0.3, **r)
    ref_z = [z1.clone().requires_grad_(), z2.clone().requires_grad_()]
    ref = fn(*ref_z, y, au_weights=W8); ref.backward()
    loc = [z1[sl].clone().requires_grad_(), z2[sl].clone().requires_grad_()]
    out = ddp_contrastive_loss(lambda a, c, yy: fn(a, c, yy, reduction="none"), *loc, y[sl], W8)
    out.backward()
    assert abs(out.item() - ref.item()) < TOL, (name, out.item(), ref.item())
    for l, r in zip(loc, ref_z):
        assert (l.grad / WORLD - r.grad[sl]).abs().max() < TOL, (name, (l.grad / WORLD - r.grad[sl]).abs().max())
        assert r.grad[sl].abs().max() > 1e-6   # a real gradient reaches this rank


def _all_cases(rank):
    for name in CASES: _loss_case(rank, name)


def test_loss_and_gradients_equal_single_process():
    "Every positive type, hcl and paper_eq4, mixed draws, SupCon and WCE, in one pair of processes (start-up is the cost)."
    _spawn(_all_cases)


class _Toy(torch.nn.Module):
    "Images (n, 8) -> embeddings (n, K, D): a shared layer, then per-AU features (no batch statistics)."
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body, self.head = torch.nn.Linear(8, 16), torch.nn.Linear(16, K * D)
        self.double()
    def forward(self, x): return self.head(torch.tanh(self.body(x))).view(len(x), K, D)


def _step(model, x1, x2, y, method, dist_info=None):
    from aunce.loss import aunce_loss, wce_loss
    from aunce.distributed import ddp_contrastive_loss, ddp_wce_loss
    kw = dict(tau=0.3, minority=torch.tensor([1, 0, 1]), p=(0.2, 0.2, 0.6, 0), neg_power="hcl")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    z = model(torch.cat([x1, x2]))
    z1, z2 = z[: len(x1)], z[len(x1):]
    gen = lambda: torch.Generator().manual_seed(99)
    if method == "wce":
        loss = (ddp_wce_loss(z1[..., 0], y, W8) if dist_info else wce_loss(z1[..., 0], y, W8))
    elif dist_info:
        loss = ddp_contrastive_loss(lambda a, b, c: aunce_loss(a, b, c, **kw, generator=gen(), reduction="none"), z1, z2, y, W8)
    else:
        loss = aunce_loss(z1, z2, y, **kw, generator=gen(), au_weights=W8)
    loss.backward(); opt.step()
    return loss.item()


def _ddp_step(rank, method, out):
    from torch.nn.parallel import DistributedDataParallel as DDP
    g = torch.Generator().manual_seed(7)
    x1, x2 = torch.randn(B, 8, generator=g, dtype=torch.float64), torch.randn(B, 8, generator=g, dtype=torch.float64)
    _, _, y = _batch()
    b = B // WORLD; sl = slice(rank * b, (rank + 1) * b)
    model = DDP(_Toy())
    loss = _step(model, x1[sl], x2[sl], y[sl], method, dist_info=True)
    if rank == 0: torch.save({"loss": loss, "state": model.module.state_dict()}, out)


@pytest.mark.parametrize("method", ["aunce", "wce"])
def test_one_ddp_step_equals_one_process(method, tmp_path):
    out = tmp_path / "ddp.pt"
    _spawn(_ddp_step, method, str(out))
    g = torch.Generator().manual_seed(7)
    x1, x2 = torch.randn(B, 8, generator=g, dtype=torch.float64), torch.randn(B, 8, generator=g, dtype=torch.float64)
    _, _, y = _batch()
    model = _Toy()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss = _step(model, x1, x2, y, method)
    got = torch.load(out)
    assert abs(got["loss"] - loss) < TOL
    for k, v in model.state_dict().items():
        assert (got["state"][k] - v).abs().max() < TOL, k
        assert (v - before[k]).abs().max() > 1e-4   # the step moved the weights


# ---- aunce-train, alone and under torchrun (tiny backbone, small SynthAU, CPU) ----
TORCHRUN, CLI = ROOT / ".venv/bin/torchrun", ROOT / ".venv/bin/aunce-train"
needs_torchrun = pytest.mark.skipif(not (TORCHRUN.exists() and CLI.exists()), reason="needs .venv/bin/torchrun and aunce-train")
ARGS = ["--dataset", "synth", "--subjects", "9", "--frames", "24", "--label-noise", "0.2", "--image-size", "32", "--backbone", "tiny",
        "--embed-dim", "16", "--batch-size", "16", "--preset", "scratch", "--device", "cpu", "--no-progress",
        "--monitor-frames", "32", "--val-fraction", "0.25", "--probe-epochs", "3", "--threads", "1"]
RUN_FILES = {"config.json", "split.json", "metrics.csv", "metrics.json", "batches.csv", "log.txt", "checkpoint.pt",
             "model.safetensors", "best.safetensors", "results.json", "predictor.safetensors", "probe.safetensors"}


def _cli(tmp_path, out, *extra, ranks=None, wait=True):
    cmd = ([str(TORCHRUN), "--standalone", "--nproc_per_node", str(ranks), "--no-python"] if ranks else []) + \
          [str(CLI), *ARGS, "--cache-dir", str(tmp_path / "cache"), "--out-dir", str(out), *extra]
    if not wait: return subprocess.Popen(cmd, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True, start_new_session=True)
    return subprocess.run(cmd, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=900)


def _descendants(pid: int) -> list[int]:
    "Every process below `pid`, from /proc."
    kids = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try: ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError): continue
            kids.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []): out.append(c); todo.append(c)
    return out


def test_cli_argument_errors_are_one_line(tmp_path):
    for argv, msg in [(["--beta-min", "x"], "invalid float value"), (["--preset", "nope"], "preset='nope'"),
                      (["--val-fraction", "0"], "val_fraction")]:
        r = subprocess.run([str(CLI), *argv], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and msg in r.stderr, (r.returncode, r.stderr)


@needs_torchrun
def test_torchrun_two_ranks_writes_the_same_run_folder(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    r = _cli(tmp_path, one, "--epochs", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    r = _cli(tmp_path, two, "--epochs", "1", ranks=2)
    assert r.returncode == 0, r.stdout + r.stderr
    files = lambda p: {f.name for f in p.iterdir() if not f.name.startswith(".")}
    assert RUN_FILES <= files(one) and files(two) == files(one), (files(one), files(two))
    res = json.loads((two / "results.json").read_text())
    assert res["config"]["batch_size"] == 16 and "f1" in res["eval"]["summary"]
    log = (two / "log.txt").read_text()
    assert "[rank 0/2]" in log and "2 ranks of 8" in log
    assert "[rank 1/2]" in r.stdout   # the other rank's lines name it
    import pandas as pd
    b = pd.read_csv(two / "batches.csv")
    assert (b["images"] == 16).all()   # a batch of the log is the global batch


@needs_torchrun
def test_torchrun_rejects_a_batch_that_does_not_divide(tmp_path):
    r = _cli(tmp_path, tmp_path / "odd", "--epochs", "1", "--batch-size", "15", ranks=2)
    assert r.returncode != 0 and "does not divide by the 2 ranks" in r.stdout + r.stderr


@needs_torchrun
def test_killed_two_rank_run_resumes(tmp_path):
    from aunce.train import load_checkpoint
    out = tmp_path / "killed"
    p = _cli(tmp_path, out, "--epochs", "4", "--keep-checkpoints", "all", ranks=2, wait=False)
    first = out / "checkpoints" / "epoch_000.pt"
    t0 = time.time()
    while not first.exists() and p.poll() is None and time.time() - t0 < 600: time.sleep(0.02)
    assert first.exists(), p.communicate()[0]
    for pid in [*_descendants(p.pid), p.pid]:   # both ranks (torchrun starts them in sessions of their own), then torchrun
        try: os.kill(pid, signal.SIGKILL)          # no cleanup: as if the machine died
        except ProcessLookupError: pass
    p.wait()
    assert not (out / "results.json").exists()
    done = load_checkpoint(out / "checkpoint.pt")["epoch"]
    assert done < 3, "killed too late: the run had finished training"
    r = _cli(tmp_path, out, "--epochs", "4", "--keep-checkpoints", "all", "--resume", ranks=2)
    assert r.returncode == 0, r.stdout + r.stderr
    log = (out / "log.txt").read_text()
    assert f"resumed from the checkpoint of epoch {done}" in log
    assert f"[rank 1/2] resumed from the checkpoint of epoch {done}" in r.stdout   # every rank resumed from it
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 3 and (out / "results.json").exists()
    h = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in h] == [0, 1, 2, 3]
