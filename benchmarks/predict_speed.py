"""aunce-predict speed on one core, by stage and end to end.

    .venv/bin/python benchmarks/predict_speed.py [--frames 150] [--width 640] [--height 360] [--image-size 112]

Makes a 640x360 H.264 video of the astronaut photo moving (shift + rotation), a small random predictor (the `tiny`
backbone) and runs `Predictor.write_csv` on it pinned to one CPU core (torch, MediaPipe and the decoder with one
thread). Prints ms/frame for decode, detect, landmarks, align and model, the end-to-end frames/s (CSV included), and
the two face detectors (MediaPipe, dlib HOG) on the same frames and on frames with the photo at 0.4 scale (a face
about 40 px wide): time and how many frames they find the face in."""
import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import argparse, shutil, tempfile, time
import numpy as np
import torch

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--image-size", type=int, default=112, help="the predictor's crop size (tiny backbone)")
    ap.add_argument("--embed-dim", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    a = ap.parse_args()
    if not a.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    torch.set_num_threads(1)
    from aunce.predict import (Predictor, make_demo_checkpoint, make_motion_video, expand_inputs, iter_frames,
                               MediaPipeDetector, DlibDetector, STAGES, astronaut, motion_matrices, warp_frame)
    tmp = tempfile.mkdtemp(prefix="predict-speed-")
    try:
        video = os.path.join(tmp, "motion.mp4")
        make_motion_video(video, n=a.frames, width=a.width, height=a.height)
        ck = make_demo_checkpoint(os.path.join(tmp, "predictor.safetensors"), image_size=a.image_size, embed_dim=a.embed_dim)
        pred = Predictor(ck, batch_size=a.batch_size)
        pred.write_csv([video], os.path.join(tmp, "warm.csv"))            # warm-up: first-call costs out of the way
        pred.stage_seconds = dict.fromkeys(STAGES, 0.0)
        t0 = time.perf_counter()
        s = pred.write_csv([video], os.path.join(tmp, "faces.csv"))
        wall = time.perf_counter() - t0
        n = s.frames
        cores = "all cores" if a.all_cores else "1 core"
        print(f"aunce-predict on {n} frames of {a.width}x{a.height} H.264 ({s.faces} faces), tiny backbone at "
              f"{a.image_size} px, batch {a.batch_size}, {cores}, torch threads {torch.get_num_threads()}")
        print(f"{'stage':<12}{'ms/frame':>10}{'share':>8}")
        tot = sum(s.stage_seconds.values())
        for k in STAGES:
            v = s.stage_seconds[k]
            print(f"{k:<12}{1000 * v / n:>10.2f}{100 * v / tot:>7.0f}%")
        other = wall - tot
        print(f"{'csv+other':<12}{1000 * other / n:>10.2f}{'':>8}")
        print(f"{'end to end':<12}{1000 * wall / n:>10.2f}   -> {n / wall:.1f} frames/s")
        # detectors on the same frames
        frames = [f for _, _, f in iter_frames(expand_inputs([video])[0])]
        photo = astronaut()
        small = [warp_frame(photo, M, a.width, a.height) for M in motion_matrices(30, a.width, a.height, scale=0.4)]
        print(f"\n{'detector':<12}{'ms/frame':>10}{'found':>10}{'found, 40 px faces':>20}")
        for det in (MediaPipeDetector(), DlibDetector()):
            det(frames[0])
            t0 = time.perf_counter(); found = sum(bool(det(f)) for f in frames); dt = time.perf_counter() - t0
            found_small = sum(bool(det(f)) for f in small)
            print(f"{det.name:<12}{1000 * dt / len(frames):>10.2f}{found:>6}/{len(frames)}{found_small:>15}/{len(small)}")
            det.close()
        pred.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
