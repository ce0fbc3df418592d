"""The benchmarks print their tables and nothing else: no native log lines (torch's profiler writes
`USDT ... profiler_start` and `gpuGetDeviceCount failed` from C++ at every profile) on stdout or stderr."""
from __future__ import annotations
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0"}
NOISE = ("USDT", "profiler_start", "profiler_stop", "gpuGetDeviceCount", "STAGE:", "Completed Stage")


@pytest.mark.parametrize("args", [["loss_speed.py", "--sizes", "8", "--naive-sizes", "--reps", "1"],
                                  ["synth_speed.py", "--n", "6", "--size", "64", "--repeats", "1"]])
def test_benchmark_output_is_quiet(args):
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / args[0]), *args[1:]], capture_output=True, text=True,
                       env=ENV, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    noisy = [l for l in (r.stdout + r.stderr).splitlines() if any(n in l for n in NOISE)]
    assert not noisy, f"{args[0]} printed native log lines: {noisy[:5]}"
    assert not r.stderr.strip(), f"{args[0]} wrote to stderr: {r.stderr[:500]}"
    if args[0] == "loss_speed.py": assert "targets:" in r.stdout and "MiB" in r.stdout   # the table itself is printed
