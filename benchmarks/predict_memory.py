"""aunce-predict's peak memory on a short video and on one 10x longer: it should not grow with the number of frames.

    .venv/bin/python benchmarks/predict_memory.py [--frames 200] [--times 10] [--detect-every N]

Makes two 640x360 H.264 videos of the astronaut photo moving (`--frames` and `--times` x as many frames, the same
motion repeated) and a small random predictor, then runs `Predictor.write_csv` on each in a fresh process pinned to
one core (so one run's peak does not hide the other's) and prints, per video, the peak resident memory
(`ru_maxrss`), the resident memory before the run (model, detectors and libraries loaded, one warm-up frame done),
their difference, the CSV's size and the frames/s. Rows are written to the CSV as the model makes them (at most
`batch_size` faces wait), and frames are decoded one at a time, so the peaks should match."""
import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import argparse, json, resource, shutil, subprocess, sys, tempfile, time


def rss_mb() -> float:
    "Current resident memory of this process, MB (Linux /proc)."
    with open("/proc/self/statm") as f: return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def child(video: str, ck: str, out: str, detect_every: int | None) -> None:
    if hasattr(os, "sched_setaffinity"): os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import numpy as np, torch
    torch.set_num_threads(1)
    from aunce.predict import Predictor
    kw = {} if detect_every is None else {"detect_every": detect_every}
    pred = Predictor(ck, **kw)
    pred.predict(np.zeros((360, 640, 3), np.uint8))          # first-call allocations out of the way
    before = rss_mb()
    t0 = time.perf_counter()
    s = pred.write_csv([video], out)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024          # kB on Linux
    print(json.dumps({"frames": s.frames, "faces": s.faces, "failed": len(s.failed), "before_mb": before, "peak_mb": peak,
                      "after_mb": rss_mb(), "csv_mb": os.path.getsize(out) / 2 ** 20, "fps": s.frames / wall}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--times", type=int, default=10)
    ap.add_argument("--detect-every", type=int, default=None, help="default: aunce's DETECT_EVERY")
    ap.add_argument("--child", nargs=3, metavar=("VIDEO", "CHECKPOINT", "CSV"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child: child(*a.child, a.detect_every); sys.exit(0)
    import numpy as np
    from aunce.predict import make_demo_checkpoint, motion_matrices, warp_frame, write_video, astronaut
    tmp = tempfile.mkdtemp(prefix="predict-memory-")
    try:
        ck = str(make_demo_checkpoint(os.path.join(tmp, "predictor.safetensors"), image_size=112, embed_dim=64))
        photo, Ms = astronaut(), motion_matrices(a.frames)
        rows = []
        for k in (1, a.times):
            video = os.path.join(tmp, f"x{k}.mp4")
            write_video(video, (warp_frame(photo, Ms[i % a.frames], 640, 360) for i in range(k * a.frames)))
            cmd = [sys.executable, __file__, "--child", video, ck, os.path.join(tmp, f"x{k}.csv")]
            if a.detect_every: cmd += ["--detect-every", str(a.detect_every)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode: sys.exit(f"child failed:\n{r.stderr[-3000:]}")
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            os.remove(video)
        print(f"aunce-predict peak memory, 640x360 H.264, one face, tiny backbone at 112 px, 1 core, fresh process each")
        print(f"{'frames':>8}{'CSV MB':>9}{'RSS before MB':>15}{'peak RSS MB':>13}{'peak - before':>15}{'frames/s':>10}")
        for r in rows:
            print(f"{r['frames']:>8}{r['csv_mb']:>9.1f}{r['before_mb']:>15.0f}{r['peak_mb']:>13.0f}"
                  f"{r['peak_mb'] - r['before_mb']:>15.0f}{r['fps']:>10.1f}")
        grow = rows[1]["peak_mb"] - rows[0]["peak_mb"]
        print(f"{a.times}x the frames: peak RSS {grow:+.0f} MB ({100 * grow / rows[0]['peak_mb']:+.1f}%), "
              f"CSV x{rows[1]['csv_mb'] / rows[0]['csv_mb']:.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
