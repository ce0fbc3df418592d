"""Training integration tests that need subprocesses: exact resume after a kill, and the papermill notebooks."""
import json, os, signal, subprocess, sys, textwrap
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}

# A tiny but complete AUNCE run: SynthAU (generated once into the test's cache), the tiny backbone, 3 epochs.
SCRIPT = textwrap.dedent("""
    import os, signal, sys, torch
    torch.set_num_threads(1)
    from aunce.train import TrainConfig, train
    out, cache, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    cfg = TrainConfig(dataset="synth", subjects=6, frames=24, label_noise=0.2, image_size=32, cache_dir=cache,
                      backbone="tiny", embed_dim=16, epochs=3, batch_size=16, lr=1e-3, schedule="cosine",
                      warmup_epochs=0.5, grad_clip=1.0, device="cpu", seed=3, out_dir=out, progress=False,
                      val_fraction=0.25)
    def kill_mid_epoch_2(epoch, step, loss):
        if mode == "kill" and epoch == 1 and step == 1:
            os.kill(os.getpid(), signal.SIGKILL)   # no cleanup, no atexit: as if the machine died
    train(cfg, resume=(mode == "resume"), callbacks=[kill_mid_epoch_2])
""")


def _train(tmp_path, out, mode):
    return subprocess.run([sys.executable, "-c", SCRIPT, str(out), str(tmp_path / "cache"), mode],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)


def test_resume_after_kill_is_exact(tmp_path):
    from aunce.train import load_checkpoint
    a, b = tmp_path / "straight", tmp_path / "killed"
    r = _train(tmp_path, a, "plain")
    assert r.returncode == 0, r.stderr
    r = _train(tmp_path, b, "kill")
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    ck = load_checkpoint(b / "checkpoint.pt")            # torch.load(weights_only=True)
    assert ck["epoch"] == 0 and not (b / "model.safetensors").exists()
    assert set(ck) >= {"model", "optimizer", "scheduler", "rng", "epoch", "loader_generator", "config"}
    r = _train(tmp_path, b, "resume")
    assert r.returncode == 0, r.stderr
    assert "resumed from the checkpoint of epoch 0" in (b / "log.txt").read_text()
    ca, cb = load_checkpoint(a / "checkpoint.pt"), load_checkpoint(b / "checkpoint.pt")
    assert ca["epoch"] == cb["epoch"] == 2
    for k, v in ca["model"].items():
        assert torch.equal(v, cb["model"][k]), k              # bit for bit
    for sa, sb in zip(ca["optimizer"]["state"].values(), cb["optimizer"]["state"].values()):
        for k in sa: assert torch.equal(sa[k], sb[k]), k
    from safetensors.torch import load_file
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    ha, hb = json.loads((a / "metrics.json").read_text()), json.loads((b / "metrics.json").read_text())
    assert [h["loss"] for h in ha] == [h["loss"] for h in hb]
    import pandas as pd
    ba, bb = pd.read_csv(a / "batches.csv"), pd.read_csv(b / "batches.csv")
    assert len(ba) == len(bb) and (ba["loss"].values == bb["loss"].values).all()
    assert any(c.startswith("pos_AU") for c in ba.columns)


def _papermill(nb, out_nb, *params, cwd=ROOT):
    args = [sys.executable, "-m", "papermill", str(nb), str(out_nb), "--no-progress-bar", "-k", "python3"]
    for k, v in params: args += ["-p", k, str(v)]
    return subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=900)


def test_train_notebook_papermill(tmp_path):
    out = tmp_path / "run"
    r = _papermill("nbs/train.ipynb", tmp_path / "out.ipynb", ("beta_min", 1.3), ("neg_power", "beta"), ("epochs", 1),
                   ("processes", 2), ("out_dir", out))   # two runs at once, each in its own process
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    cfg = res["aunce"]["config"]
    # the scratch preset by default; explicit parameters override it, the rest keep the preset's values
    assert res["preset"] == cfg["preset"] == "scratch" and cfg["beta_min"] == 1.3 and cfg["neg_power"] == "beta"
    assert cfg["embedding"] == "relu" and cfg["head"] == "spatial" and cfg["shift"] == 3 and cfg["epochs"] == 1
    for m in ("aunce", "wce", "supcon"):   # the keys of every model's honest summary
        s = res[m]["eval"]["summary"]
        assert all(k in s for k in ("auc_clean", "f1_clean_tuned", "f1_clean_all_positive")) and 0 <= s["f1_tuned"] <= 100
    assert [row["model (clean labels)"] for row in res["table"]] == ["AUNCE", "WCE", "SupCon"]
    assert all("verdict" in row and "AUC" in row and "F1 all-positive" in row for row in res["table"])
    assert "AU1" in res["f1_table"]["AUNCE f1 tuned"] and "val_auc" in res["aunce"]["history"]
    assert (out / "aunce" / "checkpoint.pt").exists() and (out / "wce" / "results.json").exists()
    html = (out / "loss_curves.html").read_text()
    assert (out / "plotly.min.js").exists() and "cdn.plot.ly" not in html   # draws offline
    assert "verdict" in r.stdout + r.stderr or (out / "results.json").exists()
    assert not list((ROOT / "nbs").glob("**/results.json"))          # nothing written into nbs/


def test_ablations_notebook_papermill(tmp_path):
    out = tmp_path / "abl"
    r = _papermill(ROOT / "nbs/ablations.ipynb", tmp_path / "out.ipynb", ("models", "AE"), ("p_sweep", "0,0,1,0"),
                   ("beta_min_sweep", "1.4"), ("beta_maj_sweep", ""), ("out_dir", out), cwd=ROOT / "nbs")
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out / "ablations.json").read_text())
    assert [r["tag"] for r in res["table7"]] == ["A", "E"] and len(res["fig5_beta_min"]) == 1


def _strip_new_fields(path: Path, out: Path) -> Path:
    "A copy of a predictor file as aunce wrote it before `head` (and the other SAVED_BEFORE fields) existed."
    from safetensors import safe_open
    from safetensors.torch import save_file
    from aunce.train import SAVED_BEFORE
    with safe_open(str(path), framework="pt") as f:
        meta, sd = dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}
    cfg = json.loads(meta["config"])
    for k in SAVED_BEFORE: cfg.pop(k, None)
    meta["config"] = json.dumps(cfg)
    save_file(sd, str(out), metadata=meta)
    return out


def test_old_checkpoints_and_other_heads(tmp_path):
    """A predictor saved before the spatial head existed loads as the ANFL model it was; weights of one head loaded
    into the other, or a run resumed with another head, are errors that name `head` and both values."""
    from aunce.predict import make_demo_checkpoint, load_inference_checkpoint
    from aunce.train import TrainConfig, build_model, save_weights, load_weights, RunDir, fit, make_optimizer
    old = _strip_new_fields(make_demo_checkpoint(tmp_path / "new.safetensors"), tmp_path / "old.safetensors")
    assert "head" not in json.loads(__import__("safetensors").safe_open(str(old), "pt").metadata()["config"])
    m = load_inference_checkpoint(old)
    assert m.cfg.head == "anfl" and m.cfg.graph and m.model.encoder.head_type == "anfl"
    # weights of a spatial encoder into an ANFL one (and back): the error names the option and both values
    cfg = TrainConfig(preset="scratch", backbone="tiny16", image_size=64, embed_dim=16)
    sp = build_model(cfg, 12)
    p = save_weights(sp, tmp_path / "sp.safetensors")
    with pytest.raises(ValueError, match=r"saved with head='spatial'.*this model has head='anfl'"):
        load_weights(build_model(TrainConfig(preset="scratch", backbone="tiny16", image_size=64, embed_dim=16, head="anfl"), 12), p)
    # resuming a run with another head: the config check names the field and both values
    run = RunDir(tmp_path / "run")
    data = [{"labels": torch.zeros(4, 12, dtype=torch.long), "image": torch.randn(4, 3, 64, 64)}]
    step = lambda model, b: model(b["image"]).pow(2).mean()
    fit(sp, step, lambda g: data, epochs=1, run=run, optimizer=make_optimizer(sp.parameters(), 1e-3), config=cfg.to_dict(),
        progress=False)
    other = TrainConfig(preset="scratch", backbone="tiny16", image_size=64, embed_dim=16, head="anfl")
    an = build_model(other, 12)
    with pytest.raises(ValueError, match=r"config differs in \['graph', 'head'\].*'spatial'.*'anfl'"):
        fit(an, step, lambda g: data, epochs=2, run=run, optimizer=make_optimizer(an.parameters(), 1e-3),
            config=other.to_dict(), progress=False, resume=True)


def _tiny_run(tmp_path, name, **kw):
    from aunce.train import TrainConfig, train
    torch.set_num_threads(1)
    cfg = TrainConfig(dataset="synth", subjects=6, frames=24, label_noise=0.2, image_size=32, cache_dir=str(tmp_path / "cache"),
                      backbone="tiny", embed_dim=16, epochs=2, batch_size=16, lr=1e-3, device="cpu", seed=3,
                      out_dir=str(tmp_path / name), progress=False, val_fraction=0.25, monitor_frames=32, **kw)
    return train(cfg).history


@pytest.mark.parametrize("views", ["simclr", "flip"])
def test_where_the_views_are_made_and_the_workers_do_not_change_the_run(tmp_path, views):
    """The views made in the step from uint8 faces and per-sample parameters (augment_on='device', here on the CPU)
    and those made in the loader, in the training process or in two persistent workers, give the same run."""
    cpu = _tiny_run(tmp_path, "cpu", views=views, augment_on="cpu")
    dev = _tiny_run(tmp_path, "dev", views=views, augment_on="device")
    two = _tiny_run(tmp_path, "two", views=views, augment_on="cpu", num_workers=2, cache_images=False)
    for h in (dev, two):
        assert torch.allclose(torch.tensor(h["loss"].values), torch.tensor(cpu["loss"].values), atol=1e-5), (h["loss"], cpu["loss"])
    assert {"load_s", "step_s", "eval_s"} <= set(cpu.columns) and (cpu["eval_s"] > 0).all()
