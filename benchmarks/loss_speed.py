"""Forward + backward time and peak memory of `aunce_loss` against the loop reference `aunce_loss_naive`
and a plain per-AU SupCon-style einsum loss, on the CPU, measured in one run.

    python benchmarks/loss_speed.py                      # B in {32, 64, 128}, K = 12, d = 512; loops at B = 32, 64
    python benchmarks/loss_speed.py --sizes 32 --naive-sizes 32 --reps 3
    python benchmarks/loss_speed.py --threads 2                # more threads (default 1)

Time: median over `--reps` repetitions (after one warm-up) of one forward + backward from fresh leaf
embeddings, the fast and einsum losses interleaved so that other load on the machine hits both alike; the loops run once per size (they take seconds). Peak memory: the largest number of bytes
held by torch's CPU allocator at any moment during one forward + backward, over what was held when it
started, read from the profiler's memory events (`torch.profiler`, `profile_memory=True`); Python objects
are not counted; for the loops (millions of tiny ops: the profiler's own log would take gigabytes) the rise
of the process's resident memory (RSS) instead, sampled every 2 ms. All three losses normalise the embeddings inside and get the same inputs.
Targets: `aunce_loss` within 3x of the einsum loss at every B, and at least 50x faster than the loops at B = 64.

Threads: 1 by default (`--threads N` for more). On a machine whose cores are busy with other work, more threads
than free cores make every op wait for the slowest thread: on 2 busy cores, 2 threads measured the fast loss 7x
slower than 1 thread (221 ms vs 29 ms at B = 32) and reported the targets "NOT met" although they are met.
The setting is printed with the results.
"""
from __future__ import annotations
import argparse, contextlib, os, statistics, sys, threading, time
from pathlib import Path

import torch
import torch.nn.functional as F

try:
    from aunce.loss import aunce_loss, aunce_loss_naive
except ModuleNotFoundError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from aunce.loss import aunce_loss, aunce_loss_naive


def supcon_einsum_loss(z1: torch.Tensor, z2: torch.Tensor, labels: torch.Tensor, tau: float = 0.5, **_) -> torch.Tensor:
    """Plain supervised-contrastive loss per AU: every other view with the same known label is a positive,
    all other views are the denominator; mean over (anchor, AU) with a positive. The comparison baseline.

    Shape: z1, z2 (B, K, d), labels (B, K) in {1, 0, -1} -> ()."""
    z = F.normalize(torch.cat([z1, z2]), dim=-1)  # (2B, K, d)
    y = torch.cat([labels, labels]).T  # (K, 2B)
    s = torch.einsum("akd,bkd->kab", z, z) / tau  # (K, 2B, 2B)
    eye = torch.eye(s.shape[-1], dtype=torch.bool)
    s = s.masked_fill(eye, float("-inf"))
    log_prob = s - torch.logsumexp(s, -1, keepdim=True)
    known = y >= 0
    pos = (y[:, :, None] == y[:, None, :]) & known[:, :, None] & known[:, None, :] & ~eye
    n_pos = pos.sum(-1)
    per = -log_prob.masked_fill(~pos, 0).sum(-1) / n_pos.clamp_min(1)
    valid = n_pos > 0
    return per.masked_fill(~valid, 0).sum() / valid.sum().clamp_min(1)


def make_inputs(B: int, K: int, d: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    z1, z2 = torch.randn(B, K, d, generator=g), torch.randn(B, K, d, generator=g)
    rates = torch.linspace(0.05, 0.6, K)
    y = (torch.rand(B, K, generator=g) < rates).long()
    y[torch.rand(B, K, generator=g) < 0.02] = -1
    return z1, z2, y


def fwd_bwd(fn, z1, z2, y) -> None:
    a, b = z1.clone().requires_grad_(), z2.clone().requires_grad_()
    fn(a, b, y, generator=torch.Generator().manual_seed(0)).backward()


def time_it(fns, inputs, reps: int) -> list[float]:
    "Median time of each of `fns`, run interleaved (f, g, f, g, ...) so that load on the machine hits all alike."
    ts = [[] for _ in fns]
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t = time.perf_counter(); fwd_bwd(fn, *inputs); ts[i].append(time.perf_counter() - t)
    return [statistics.median(t) for t in ts]


@contextlib.contextmanager
def native_stderr_silenced():
    """Point file descriptor 2 at /dev/null while the block runs: torch's profiler (kineto) writes its
    `USDT ... profiler_start` / `profiler_stop` and `gpuGetDeviceCount failed` lines there from C++, at every
    profile, whatever KINETO_LOG_LEVEL says. Python's own errors are raised after the block, on the real stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2); os.close(saved)


def peak_bytes(fn, inputs) -> int:
    from torch.profiler import ProfilerActivity, profile
    with native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fwd_bwd(fn, *inputs)
    ev = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]")
    cur = peak = 0
    for _, nb in ev:
        cur += nb; peak = max(peak, cur)
    return peak


def peak_rss_bytes(fn, inputs) -> float:
    """Rise of the process's resident memory during one forward + backward, sampled every 2 ms from
    /proc/self/statm (Linux; NaN elsewhere). Used for the loops, whose millions of small ops would make the
    profiler's event log itself take gigabytes."""
    statm = Path("/proc/self/statm")
    if not statm.exists(): return float("nan")
    page = os.sysconf("SC_PAGE_SIZE")
    rss = lambda: int(statm.read_text().split()[1]) * page
    base = peak = rss(); done = threading.Event()
    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss()); time.sleep(0.002)
    th = threading.Thread(target=sample, daemon=True); th.start()
    try: fwd_bwd(fn, *inputs)
    finally: done.set(); th.join()
    return max(peak, rss()) - base


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128], help="batch sizes B (images)")
    ap.add_argument("--naive-sizes", type=int, nargs="*", default=[32, 64], help="batch sizes at which to run the loops")
    ap.add_argument("--K", type=int, default=12)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1,
                    help=f"torch intra-op threads (default 1; this machine offers {len(os.sched_getaffinity(0))} cores)")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    args = ap.parse_args(argv)
    if args.threads < 1: ap.error(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    print(f"threads: {torch.get_num_threads()} (--threads; default 1), cores available: {len(os.sched_getaffinity(0))}")
    print(f"aunce_loss vs loops vs plain einsum SupCon: CPU, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"K={args.K}, d={args.d}, forward+backward, median of {args.reps} (loops: 1 run)")
    head = (f"{'B':>4} {'fast ms':>9} {'einsum ms':>10} {'loops ms':>10} {'fast/einsum':>12} {'loops/fast':>11} "
            f"{'fast MiB':>9} {'einsum MiB':>11} {'loops MiB':>10}")
    print(head); print("-" * len(head))
    ok, rows = True, []
    for B in args.sizes:
        inputs = make_inputs(B, args.K, args.d)
        for fn in (aunce_loss, supcon_einsum_loss):
            fwd_bwd(fn, *inputs)  # warm-up
        t_fast, t_ein = time_it([aunce_loss, supcon_einsum_loss], inputs, args.reps)
        run_naive = B in args.naive_sizes
        t_naive = time_it([aunce_loss_naive], inputs, 1)[0] if run_naive else float("nan")
        mib = lambda fn: peak_bytes(fn, inputs) / 2**20 if not args.no_memory else float("nan")
        m_fast, m_ein = mib(aunce_loss), mib(supcon_einsum_loss)
        m_naive = (peak_rss_bytes(aunce_loss_naive, inputs) / 2**20
                   if run_naive and B == min(args.naive_sizes) and not args.no_memory else float("nan"))
        r_ein, r_naive = t_fast / t_ein, t_naive / t_fast
        print(f"{B:>4} {t_fast * 1e3:>9.2f} {t_ein * 1e3:>10.2f} {t_naive * 1e3:>10.0f} {r_ein:>12.2f} {r_naive:>11.0f} "
              f"{m_fast:>9.2f} {m_ein:>11.2f} {m_naive:>10.1f}", flush=True)
        ok &= r_ein <= 3
        if B == 64 and run_naive: ok &= r_naive >= 50
        rows.append((B, r_ein, r_naive))
    print("targets: fast/einsum <= 3 at every B; loops/fast >= 50 at B = 64:", "met" if ok else "NOT met")
    print("(MiB: peak bytes of torch's CPU allocator from the profiler; loops MiB: RSS rise, at the smallest loop size only; "
          "nan = not measured)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
