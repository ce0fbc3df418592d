"""The benchmarks print their tables and nothing else: no native log lines (torch's profiler writes
`USDT ... profiler_start` and `gpuGetDeviceCount failed` from C++ at every profile) on stdout or stderr."""
from __future__ import annotations
import json, os, subprocess, sys
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


def test_cost_growth_smoke(tmp_path):
    "benchmarks/cost_growth.py at tiny sizes: the table, the ratios in --json, a verdict line, nothing on stderr."
    out = tmp_path / "cg.json"
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cost_growth.py"), "--sizes", "200,400", "--batch-size", "16",
                        "--monitor-frames", "32", "--embed-dim", "16", "--cache-dir", str(tmp_path / "cache"),
                        "--out-dir", str(tmp_path / "runs"), "--json", str(out)],
                       capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not r.stderr.strip(), f"cost_growth.py wrote to stderr: {r.stderr[:500]}"
    for row in ("loading (DataLoader)", "step (fwd, loss, bwd, AdamW)", "monitors + validation", "peak RSS MiB", "per-1k ratio"):
        assert row in r.stdout, r.stdout
    assert "the frame count" in r.stdout and ("history" in r.stdout or "timers" in r.stdout)
    d = json.loads(out.read_text())
    assert [x["size"] for x in d["rows"]] == [200, 400] and {"loading_s", "step_s", "eval_s", "other_s", "rss_growth"} <= set(d["per_1k_ratio"])
    assert all(x["peak_rss_mb"] > 0 and x["step_s"] > 0 for x in d["rows"])


def _notebook(path: Path, cells: list[str]) -> Path:
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [],
                                           "execution_count": None} for s in cells]
                                          + [{"cell_type": "markdown", "metadata": {}, "source": "# text"}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_run_cuda_cells(tmp_path):
    "tools/run_cuda_cells.py: cells in one namespace, `#| cuda`/`#| slow`/`eval: false` skipped unless flagged, magics dropped, a failing cell a FAIL with its traceback."
    tool = [sys.executable, str(ROOT / "tools" / "run_cuda_cells.py")]
    ok = _notebook(tmp_path / "ok.ipynb", ["#| export\nx = 1", "%time y = 2\n!echo hi\nx += 1",
                                           "#| cuda\nraise RuntimeError('cuda cell ran')", "#| slow\nraise RuntimeError('slow')",
                                           "#| eval: false\nraise RuntimeError('eval false')",
                                           "from fastcore.test import test_eq\ntest_eq(x, 2); test_eq([1, 2], (1, 2))"])
    bad = _notebook(tmp_path / "bad.ipynb", ["a = 1", "#| hide\nassert a == 2, 'a is not 2'"])
    r = subprocess.run(tool + ["--flags", "none", "--notebooks", str(ok)], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 0 and "PASS ok.ipynb" in r.stdout and "3 cells run" in r.stdout, r.stdout + r.stderr
    assert "flag cuda" in r.stdout and "flag slow" in r.stdout and "eval: false" in r.stdout
    r = subprocess.run(tool + ["--flags", "cuda", "--notebooks", str(ok)], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 1 and "FAIL ok.ipynb" in r.stdout and "cuda cell ran" in r.stdout, r.stdout + r.stderr
    r = subprocess.run(tool + ["--flags", "none", "--notebooks", str(ok), str(bad)], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 1 and "PASS ok.ipynb" in r.stdout and "FAIL bad.ipynb" in r.stdout, r.stdout + r.stderr
    assert "code cell 1" in r.stdout and "AssertionError: a is not 2" in r.stdout and "Traceback" in r.stdout
    r = subprocess.run(tool + ["--list", "--nbs", str(tmp_path)], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 0 and "ok.ipynb: 1 cuda cell(s)" in r.stdout and "bad.ipynb" not in r.stdout, r.stdout


def test_gpu_check_dry_run():
    "benchmarks/gpu_check.sh with GPU_CHECK_DRY=1 prints its commands (python -m style, no nbdev, no console scripts) and runs none."
    sh = ROOT / "benchmarks" / "gpu_check.sh"
    assert subprocess.run(["bash", "-n", str(sh)], capture_output=True).returncode == 0
    r = subprocess.run(["bash", str(sh)], capture_output=True, text=True, timeout=60,
                       env={**ENV, "GPU_CHECK_DRY": "1", "PY": "python3", "GPU_CHECK_OUT": "/nonexistent/gpu_check"})
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "tools/run_cuda_cells.py --flags cuda" in out and "nbdev" not in out and ".venv/bin/aunce" not in out
    assert out.count("python3 benchmarks/train_speed.py") == 4 and "--batch-size 128" in out and "--compile 0\\,1" in out
    for fn in ("train_cli", "synth_cli", "data_cli"): assert f"from\\ aunce.cli\\ import\\ {fn}" in out, out
    assert "prepare --dataset synth" in out and "--size 256" in out and "--data-root /nonexistent/gpu_check/prepared256" in out
    assert not Path("/nonexistent/gpu_check").exists()
