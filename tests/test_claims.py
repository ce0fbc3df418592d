"""benchmarks/claims.py --quick end to end (every item of issues 9 and 17 on a tiny grid, item 3 under every SynthAU
noise model), its resume (a subset runs nothing new, a changed configuration is refused), the paired verdicts, and
nbs/results_synthau.ipynb under papermill on its output. The numbers of --quick mean nothing."""
import json, os, subprocess, sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0", HF_HUB_OFFLINE="1")


def claims(*args, cwd=ROOT, ok=True):
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "claims.py"), *args], cwd=cwd, env=ENV,
                       capture_output=True, text=True, timeout=900)
    if not ok: return p
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    return p.stdout


def test_claims_quick_and_notebook(tmp_path):
    out = tmp_path / "claims"
    cache = tmp_path / "cache"
    log = claims("--out", str(out), "--quick", "--procs", "2", "--cache-dir", str(cache))
    assert "projected CPU time" in log.splitlines()[0]
    runs = pd.read_csv(out / "runs.csv")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import claims as cl
    a = cl.load_args(out)
    keys = {c["key"] for c in cl.build_grid(a)}
    assert set(runs["key"]) == keys and runs["key"].is_unique            # every cell's run, each run once
    for col in ["auc_clean", "f1_clean_tuned", "f1_clean", "accuracy_tuned", "f1_clean_all_positive", "val_auc_best",
                "last_mean_cos", "last_emb_std", "AU1 f1_clean_tuned", "AU24 rate", "seconds"]:
        assert col in runs and runs[col].notna().all(), col
    assert runs["pretrained"].any() and (out / "pretrain" / "backbone.safetensors").exists()
    assert (out / "pretrain" / "supervised_backbone.safetensors").exists()                 # issue 17: the supervised start
    for col in ["noise_model", "label_noise", "fold", "seed", "name", "pretrained_start"]:
        assert col in runs and runs[col].notna().all(), col
    assert set(runs["label_noise"]) == {0.2} and set(runs["pretrained_start"]) == {"none", "simclr", "supervised"}
    cols = ["name", "noise_model", "label_noise", "fold", "seed"]      # the name tells a run's method apart
    assert not runs.duplicated(cols).any() and "AUNCE@scratch p=(.15,.15,.7,0)" in set(runs["name"])
    from aunce.synth import NOISE_MODELS
    from aunce.evaluate import f1_from_counts
    assert set(runs["noise_model"]) == set(NOISE_MODELS)
    counts = cl.read_counts(out)                                          # per-subject counts of every run
    assert set(counts) == keys
    for k, f1 in zip(runs["key"], runs["f1_clean_tuned"]):               # they give the run's own tuned F1
        assert abs(f1_from_counts(counts[k].sum(0)).mean() - f1) < 1e-6
    df = cl.collect(out)
    assert set(df["item"]) == {1, 2, 3, 4, 5}
    v = cl.verdict_table(df, a)
    assert len(v) == 7 and not v["verdict"].eq("not measured").any()     # claim 5 once per pretrained start (5, 5b)
    md = (out / "summary.md").read_text()
    assert "not results" in md and "## Verdicts" in md and "## 5." in md and "What the encoders' monitors say" in md
    assert "## Verdicts: paired differences" in md and "mdd" in md and "subjects_ci95" in md
    pt = cl.paired_table(df, out, n_boot=200)
    assert set(pt["claim"]) == {"1", "1b", "2", "3", "4a", "5"} and len(pt[pt["claim"] == "3"]) == 2 * len(NOISE_MODELS)
    t7 = pt[pt["claim"] == "2"].set_index(["comparison", "where"])["paper_effect"]    # E - A and its four steps, per preset
    assert len(t7) == 10 and t7[("E - A", "scratch")] == "+6.0" and t7[("C - B", "paper")] == "+2.8"
    assert (pt["pairs"] == 1).all() and (pt["verdict"] == "cannot tell").all()      # one seed: no interval
    # a second seed (each method's F1 moved by its own fixed amount): intervals, and each of the three verdicts
    two = pd.concat([df, df.assign(seed=1, f1_clean_tuned=df["f1_clean_tuned"] + df["label"].map(
        {"AUNCE@scratch": 9.0, "E": -9.0}).fillna(0.5))], ignore_index=True)
    pt2 = cl.paired_table(two).set_index(["claim", "comparison", "where"])
    assert (pt2["pairs"] == 2).all() and pt2["mdd"].notna().any()
    assert set(pt2["verdict"]) <= set(cl.VERDICTS)
    curves = pd.read_csv(out / "curves.csv")                              # every run's per-epoch monitors
    assert set(curves["key"]) == keys and curves[["loss", "mean_cos", "val_auc"]].notna().all().all()
    mt = cl.mechanism_table(df, curves, 2)
    assert len(mt) == 10 and mt["mechanism"].str.len().gt(0).all()       # models A-E x both presets
    # resumable: a second call finds every run in runs.csv and runs none; a subset (--items, --seeds) too, and the
    # study still covers the union
    log2 = claims("--out", str(out), "--quick", "--procs", "2", "--cache-dir", str(cache))
    assert ", 0 to run" in log2.splitlines()[0]
    log3 = claims("--out", str(out), "--quick", "--procs", "2", "--cache-dir", str(cache), "--items", "3", "--seeds", "0")
    assert ", 0 to run" in log3.splitlines()[0] and "of items 3;" in log3.splitlines()[0]
    assert cl.load_args(out).items == "1,2,3,4,5" and len(cl.collect(out)) == len(df)
    before = (out / "runs.csv").read_bytes()
    # a resumed study with a changed configuration: an error naming the option, nothing run, runs.csv untouched
    p = claims("--out", str(out), "--quick", "--procs", "2", "--cache-dir", str(cache), "--epochs", "2", ok=False)
    assert p.returncode == 2 and "--epochs is 2 here but 1 in the study" in p.stderr, p.stderr[-2000:]
    assert (out / "runs.csv").read_bytes() == before and cl.load_args(out).epochs == 1
    # bad noise options name the option
    for args, msg in ((["--noise-models", "symmetric,flips"], "--noise-models: 'flips' is not one of"),
                      (["--noise-models", "coder", "--noise", "0,0.4"], "--noise: rate 0.4 is outside the range of noise model 'coder'")):
        p = claims("--out", str(tmp_path / "bad"), "--quick", "--dry-run", *args, ok=False)
        assert p.returncode == 2 and msg in p.stderr, p.stderr[-2000:]
    assert len(pd.read_csv(out / "runs.csv")) == len(runs)
    # verdicts read whatever cells exist: a CSV with item 1's runs only says "not measured" elsewhere
    part = tmp_path / "part"; part.mkdir()
    (part / "config.json").write_text((out / "config.json").read_text())
    item1 = {c["key"] for c in cl.build_grid(a) if c["item"] == 1}
    runs[runs["key"].isin(item1)].to_csv(part / "runs.csv", index=False)
    vp = cl.verdict_table(cl.collect(part), a)
    assert vp["verdict"].iloc[0] != "not measured" and (vp["verdict"].iloc[1:] == "not measured").all()
    # the notebook on that output
    nb = tmp_path / "results.ipynb"
    p = subprocess.run([str(Path(sys.executable).parent / "papermill"), str(ROOT / "nbs" / "results_synthau.ipynb"),
                        str(nb), "-p", "results_dir", str(out), "-p", "quick_fallback", "False", "--no-progress-bar"],
                       cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    cells = json.loads(nb.read_text())["cells"]
    assert not [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_clean_rates_and_mechanism():
    "Clean occurrence rates undo SynthAU's uniform flips; the mechanism names collapse, instance codes, spread, chance."
    import numpy as np
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import claims as cl
    clean = np.array([[15.0, 50.0], [22.5, 60.0]])
    f = np.array([0.2, 0.0])
    noisy = clean * (1 - 2 * f[:, None]) + 100 * f[:, None]     # expected rate after flipping a fraction f of labels
    runs = pd.DataFrame({"label_noise": f, "AU1 rate": noisy[:, 0], "AU2 rate": noisy[:, 1]})
    assert np.allclose(cl.clean_rates(runs, ["AU1", "AU2"]), clean)
    assert noisy[0, 0] > cl.MINORITY_RATE > clean[0, 0]           # the noisy rate would hide the minority AU
    assert cl.mechanism(1.0, 0.97, 0.9998, 51.0).startswith("collapse")
    assert cl.mechanism(25.0, 0.4, 0.3, 51.0).startswith("instance codes")
    assert cl.mechanism(9.0, 0.86, 0.73, 51.0).startswith("instance codes")
    assert cl.mechanism(1.0, 0.9, 0.92, 50.5).startswith("at chance")
    assert cl.mechanism(2.0, 0.97, 0.95, 68.0) == "learns"
    # paper_eq4's NS on (item 4): everything pushed apart, no class structure, AUC just off chance
    assert cl.mechanism(14.4, 0.377, 0.136, 56.6, cos_gap=0.0035).startswith("spread without classes")
    assert cl.mechanism(11.2, 0.49, 0.83, 81.6, cos_gap=0.0375) == "learns"
    assert cl.mechanism(2.0, 0.97, 0.95, 68.0, cos_gap=0.001) == "learns"     # above AUC 60: it learns all the same
    # recorded clean rates win; a non-symmetric run without them has none (the flip formula is symmetric noise's)
    runs2 = runs.assign(noise_model=["boundary", "symmetric"])
    got = cl.clean_rates(runs2, ["AU1", "AU2"])
    assert np.isnan(got[0]).all() and np.allclose(got[1], clean[1])
    runs2["AU1 clean rate"], runs2["AU2 clean rate"] = [10.0, np.nan], [20.0, np.nan]
    got = cl.clean_rates(runs2, ["AU1", "AU2"])
    assert np.allclose(got[0], [10.0, 20.0]) and np.allclose(got[1], clean[1])


def test_run_names():
    "Every distinct run of the full study has its own (name, noise_model, label_noise, fold, seed); names read as the tables'."
    import argparse
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import claims as cl
    a = argparse.Namespace(**cl.FULL, items="1,2,3,4,5", profile="bp4d", synth_seed=0, cache_dir="runs/cache",
                           out="/tmp/claims-names", quick=False)
    cells = cl.build_grid(a)
    runs = pd.DataFrame([dict(key=c["key"], name=cl.cfg_name(c["cfg"]), noise_model=c["cfg"].noise_model,
                              label_noise=c["cfg"].label_noise, fold=c["fold"], seed=c["seed"]) for c in cells]).drop_duplicates("key")
    assert len(runs) > 500 and not runs.duplicated(["name", "noise_model", "label_noise", "fold", "seed"]).any()
    by = {(c["item"], c["group"], c["label"]): cl.cfg_name(c["cfg"]) for c in cells}
    assert by[(1, "same budget", "AUNCE@scratch")] == by[(2, "scratch", "E")] == "AUNCE@scratch"
    assert by[(2, "paper", "C")] == "C@paper" and by[(3, "clean labels", "AUNCE no PS (D)")] == "D@scratch"
    assert by[(3, "clean labels", "AUNCE PS p=(.15,.15,.7,0)")] == "AUNCE@scratch p=(.15,.15,.7,0)"
    assert by[(4, "NS beta", "NS off")] == "C@scratch NS=beta"
    assert by[(4, "hcl beta_min sweep", "beta_min=0.8")] == "AUNCE@scratch beta_min=0.8"
    assert by[(5, "WCE", "pretrained, supervised")] == "WCE from supervised"
    # rows of older studies (named by the cell that ran them) are named by their configuration columns
    old = pd.DataFrame([dict(name="AUNCE@scratch", method="aunce", preset="scratch", use_au_weights=True, p="0.15,0.15,0.7,0",
                             beta_min=1.2, beta_maj=0.4, neg_power="hcl", pretrained_start="none")])
    assert cl.name_runs(old)["name"].tolist() == ["AUNCE@scratch p=(.15,.15,.7,0)"]


def test_ps_gain_over_clean_labels():
    "Claim 3n: (PS - D) under a noise model minus (PS - D) on clean labels, paired on fold x seed, by hand; row order."
    import numpy as np
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import claims as cl
    from aunce.evaluate import paired_difference, claim_verdict
    rng = np.random.default_rng(0)
    ps, d = cl.PS_LABEL[cl.SCRATCH_P], "AUNCE no PS (D)"
    rows = []
    for model, x in (("symmetric", 0.3), ("boundary", 0.2), ("symmetric", 0.15), ("clean", 0.0)):
        g = cl.noise_group(x, model)
        for seed in range(5 if x != 0.15 else 4):      # clean labels have a seed the 0.15 cell lacks: not paired
            for lab in (ps, d, *[v for v in cl.PS_LABEL.values() if v != ps]):
                rows.append(dict(item=3, group=g, noise_model=model if x else "symmetric", x=x, label=lab, fold=1,
                                 seed=seed, key=f"{g}{lab}{seed}", f1_clean_tuned=rng.normal(60, 5)))
    df = pd.DataFrame(rows)
    assert cl.item3_groups(df) == ["clean labels", "symmetric 0.15", "symmetric 0.3", "boundary 0.2"]
    pt = cl.paired_table(df).set_index(["claim", "where", "comparison"])
    f = df.set_index(["group", "label", "seed"])["f1_clean_tuned"]
    gain = lambda g, n: np.array([f[(g, ps, s)] - f[(g, d, s)] for s in range(n)])
    for g, n in (("symmetric 0.3", 5), ("symmetric 0.15", 4)):
        want = paired_difference(gain(g, n), gain("clean labels", n))
        r = pt.loc[("3n", g, f"({ps} - {d}) - the same on clean labels")]
        assert r["pairs"] == n and abs(r["difference"] - round(want["mean"], 2)) < 1e-9 and abs(r["lo"] - want["lo"]) < 1e-9
        assert r["verdict"] == claim_verdict(want["lo"], want["hi"]) and r["paper_effect"] == "none"
    assert list(pt.loc["3"].index.get_level_values("where").unique()) == cl.item3_groups(df)
    assert "3n" not in set(cl.paired_table(df[df["group"] != "clean labels"])["claim"])   # no clean labels: no 3n rows
