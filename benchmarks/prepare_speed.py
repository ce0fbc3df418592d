"""`aunce-data prepare`'s frames/s on a raw BP4D-layout root of 1040 x 1392 frames (the astronaut moved along a known
path), beside `aunce-predict`'s frames/s on the same frames, on one core, and prepare with 2 workers; each in a fresh
process pinned to its cores, measured side by side in one run. Also the landmark RMS against the photo's own landmarks
moved along the path.

    python benchmarks/prepare_speed.py                   # 6 videos x 40 frames (a few minutes on 2 cores)
    python benchmarks/prepare_speed.py --frames 10       # quick

Start-up (imports, the detector's models, spawning workers) is inside every measured time, as a user sees it; the
frames/s of prepare are also printed from its own count (after start-up).
"""
from __future__ import annotations
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}


def timed(cmd: list[str], cores: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(["taskset", "-c", cores, *cmd], env=ENV, cwd=ROOT, capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return time.perf_counter() - t0, r.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=100, help="frames per video (6 videos)")
    ap.add_argument("--json", default="", help="write the rows as JSON too")
    a = ap.parse_args(argv)
    import numpy as np, pandas as pd
    from aunce.prepare import write_moving_face_root
    from aunce.predict import make_demo_checkpoint, PREDICTOR_FILE
    work = Path(tempfile.mkdtemp(prefix="prepare_speed-"))
    try:
        truth = write_moving_face_root("bp4d", work / "raw", subjects_per_part=1, frames=a.frames, videos=2,
                                       faceless=(a.frames // 2,))
        n = sum(len(v) for v in truth.values())
        ck = make_demo_checkpoint(work / "run" / PREDICTOR_FILE)
        py = [sys.executable, "-c", "import sys; from aunce.cli import data_cli; sys.exit(data_cli(sys.argv[1:]))"]
        pr = [sys.executable, "-c", "import sys; from aunce.cli import predict_cli; sys.exit(predict_cli(sys.argv[1:]))"]
        rows = []
        prep = lambda out, w, *x: [*py, "prepare", "--dataset", "bp4d", "--root", str(work / "raw"), "--out", str(out),
                                   "--workers", str(w), "--no-progress", *x]
        # aunce-predict reads each video's frames as a folder of images, tracking along them as prepare does
        dirs = sorted({str(p.parent) for p in (work / "raw").rglob("*.jpg")})
        s, _ = timed([*pr, *dirs, "--checkpoint", str(ck), "--out", str(work / "pred.csv"), "--threads", "1",
                      "--no-progress"], "0")
        rows.append(("aunce-predict, 1 core", 1, s))
        s, out1 = timed(prep(work / "p1", 1), "0")
        rows.append(("aunce-data prepare, 1 core, 1 worker", 1, s))
        s, _ = timed(prep(work / "p0", 1, "--detect-every", "1"), "0")
        rows.append(("aunce-data prepare, 1 core, detect every frame", 1, s))
        s, out2 = timed(prep(work / "p2", 2), "0,1")
        rows.append(("aunce-data prepare, 2 cores, 2 workers", 2, s))
        same = all((work / "p1" / f).read_bytes() == (work / "p2" / f).read_bytes() for f in ("frames.csv", "prepared.json"))
        own = lambda out: out.split("frames/s")[0].rsplit("(", 1)[-1].strip()
        print(f"{n} frames of 1040x1392 ({len(truth)} videos; 1 faceless frame each); start-up included in each time")
        print("aunce-predict takes each frame file as an input of its own (it detects on every one); prepare tracks along "
              "each video (detect every 25 frames), or detects on every frame (--detect-every 1)\n")
        print(f"{'command':42} {'s':>7} {'frames/s':>9} {'vs predict':>11}")
        for name, _, s in rows:
            print(f"{name:42} {s:7.1f} {n / s:9.1f} {rows[0][2] / s:10.2f}x")
        print(f"\nprepare's own frames/s after start-up: 1 worker {own(out1)}, 2 workers {own(out2)}; "
              f"2 workers / 1 worker: {rows[1][2] / rows[3][2]:.2f}x (whole command)")
        print(f"1 and 2 workers wrote the same frames.csv and manifest: {same}")
        # landmark accuracy against the photo's own landmarks moved along the path
        from aunce.faces import MediaPipeDetector, DlibLandmarks
        from aunce.media import astronaut
        det, lmk = MediaPipeDetector(), DlibLandmarks(); ph = astronaut(); ref = lmk(ph, det(ph)[0])
        errs = []
        for v, Ms in truth.items():
            df = pd.read_csv(work / "p1" / "landmarks" / f"{v}.csv").set_index("frame")
            for t, M in enumerate(Ms):
                if M is None: continue
                r = df.loc[t + 1]
                got = np.stack([r[[f"x_{i}" for i in range(68)]].to_numpy(float), r[[f"y_{i}" for i in range(68)]].to_numpy(float)], -1)
                errs.append(float(np.sqrt(((got - (ref @ M[:, :2].T + M[:, 2])) ** 2).sum(1).mean())))
        print(f"landmark RMS vs the photo's landmarks moved along the path: median {np.median(errs):.2f} px, "
              f"95th percentile {np.percentile(errs, 95):.2f} px, worst {max(errs):.2f} px ({len(errs)} frames)")
        if a.json:
            Path(a.json).write_text(json.dumps([{"command": c, "cores": k, "seconds": s, "frames_per_s": n / s}
                                                for c, k, s in rows], indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
