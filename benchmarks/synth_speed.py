"""SynthAU rendering speed on one core.

    .venv/bin/python benchmarks/synth_speed.py [--n 400] [--size 256]

Prints images/s for rendering alone (render_frame, no disk) and for writing a dataset
(make_synthau: render + JPEG + CSV + list files, one worker)."""
import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
import argparse, shutil, tempfile, time
import torch
from aunce.synth import make_synthau, render_rate

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400, help="frames to render")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3, help="best of this many rendering runs")
    a = ap.parse_args()
    torch.set_num_threads(1)
    render_rate(20, a.size)                                   # warm-up (caches, imports)
    rates = [render_rate(a.n, a.size, seed=r) for r in range(a.repeats)]
    print(f"render only  : {max(rates):7.1f} images/s at {a.size}x{a.size} (best of {a.repeats}; all {', '.join(f'{r:.0f}' for r in rates)})")
    tmp = tempfile.mkdtemp(prefix="synthau-speed-")
    try:
        subjects, frames = 3, max(1, a.n // 3)
        t0 = time.perf_counter()
        make_synthau(os.path.join(tmp, "d"), "bp4d", subjects=subjects, frames=frames, seed=0, size=a.size, videos=2, workers=1)
        dt = time.perf_counter() - t0
        print(f"render+write : {subjects * frames / dt:7.1f} images/s ({subjects * frames} images, JPEG q90, one worker)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
