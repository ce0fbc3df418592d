"""The explorers without a browser: widgets built, callbacks invoked, figures checked; and both papermill notebooks
run headless (explore_features trains its own tiny WCE/AUNCE pair, explore_gradients then uses that AUNCE run)."""
import json, os, subprocess, sys
from pathlib import Path
from types import SimpleNamespace
import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
NOTEBOOKS = ["12_explore.ipynb", "12a_figures.ipynb", "12b_embeddings.ipynb", "12c_explore_features.ipynb", "explore_gradients.ipynb", "explore_features.ipynb"]


def test_gradient_explorer_callbacks():
    from aunce.explore import GradientExplorer, GradState, share_formula
    gx = GradientExplorer(GradState())
    assert set(gx.figures) == {"ratio", "entropy", "share"}
    ratio = gx.figures["ratio"]
    assert [t.name for t in ratio.data] == ["exact (autograd)", "printed Eq. 7"]
    gx.controls["n_neg"].value = 10                       # what a slider drag does
    gx.controls["beta_min"].value = 1.6
    exact, printed = (np.asarray(t.y) for t in gx.figures["ratio"].data)
    assert len(exact) == 10 and gx.figures["ratio"] is not ratio
    np.testing.assert_allclose(exact, 1.6 * printed, rtol=1e-10)    # exact = beta * printed Eq. 7
    np.testing.assert_allclose(exact.sum(), 1.6, rtol=1e-10)
    gx.controls["anchor"].value = "majority"
    np.testing.assert_allclose(np.sum(gx.figures["ratio"].data[0].y), 0.4, rtol=1e-10)
    gx.controls["neg_power"].value = "paper_eq4"                    # exponent beta + 1: exact sums to 1.4
    np.testing.assert_allclose(np.sum(gx.figures["ratio"].data[0].y), 1.4, rtol=1e-10)
    gx.controls["neg_power"].value = "beta"
    ent = gx.figures["entropy"].data[0]
    assert ent.name == "entropy H(β)" and abs(ent.y[0] - np.log(10)) < 1e-9 and np.all(np.diff(ent.y) <= 1e-12)
    gx.controls["rate"].value = 0.1
    share = gx.figures["share"]
    np.testing.assert_allclose(share.data[0].y, share_formula(share.data[0].x, 1.6, 0.4), rtol=1e-12)
    diamond = share.data[3]
    assert diamond.name.startswith("exact (autograd") and abs(diamond.x[0] - 0.1) < 0.02
    bars = share.data[4]
    np.testing.assert_allclose(sum(bars.y), 1.0, rtol=1e-12)


def test_gradient_explorer_real_batch():
    import torch
    from aunce.explore import GradientExplorer, GradState, EmbeddingBatch
    g = torch.Generator().manual_seed(0)
    z = torch.nn.functional.normalize(torch.randn(12, 3, 8, generator=g), dim=-1)
    y = (torch.rand(12, 3, generator=g) < 0.3).long().numpy(); y[0] = 1; y[1] = 0; y[2, 1] = -1
    batch = EmbeddingBatch(z, y, [1, 2, 4], [f"S1/V1/{i}" for i in range(12)], rates=np.array([0.3, 0.3, 0.7]))
    gx = GradientExplorer(GradState(source="batch"), batch=batch)
    gx.controls["au"].value = 4                             # rate 0.7: the absent class is the minority
    anchors = [i for _, i in gx.controls["anchor_index"].options]
    gx.controls["anchor_index"].value = anchors[-1]
    a, col = anchors[-1], y[:, 2]
    exact = np.asarray(gx.figures["ratio"].data[0].y)
    assert len(exact) == int(((col >= 0) & (col != col[a])).sum())
    assert list(gx.figures["ratio"].data[0].x) == sorted(gx.figures["ratio"].data[0].x, key=lambda s: -float(
        (z[int(s.split("/")[-1]), 2] @ z[a, 2]).item()))                       # hardest negative first
    np.testing.assert_allclose(exact.sum(), 1.2 if col[a] == 0 else 0.4, rtol=1e-9)
    gx.controls["source"].value = "synthetic"
    assert gx.figures["ratio"].data[0].x[0] == "n1"


def test_feature_explorer_callbacks():
    from aunce.explore import FeatureExplorer, FeatState, FrameTable
    rng = np.random.default_rng(0)
    n = 40
    lab = (rng.random((n, 2)) < 0.3).astype(int); lab[0] = [1, 1]; lab[1] = [0, 0]
    clean = lab.copy(); clean[[2, 3], 0] = 1 - clean[[2, 3], 0]
    table = FrameTable(ids=[f"S{i % 4}/V1/{i:04d}" for i in range(n)], labels=lab, aus=[1, 12],
                       subjects=[f"S{i % 4}" for i in range(n)], folds=[i % 3 + 1 for i in range(n)], clean_labels=clean,
                       images=rng.integers(0, 255, (n, 24, 24, 3), dtype=np.uint8))
    emb = rng.normal(size=(n, 2, 6))
    fx = FeatureExplorer({"WCE": emb, "AUNCE": emb + 1}, table, FeatState(au=1, method="pca"), methods=("pca",), live=False)
    fig = fx.figure
    assert [a.text for a in fig.layout.annotations] == ["WCE: AU1, pca", "AUNCE: AU1, pca"]
    assert {t.name for t in fig.data} == {"present", "absent", "flipped label"}
    ring = [t for t in fig.data if t.name == "flipped label"]
    assert len(ring) == 2 and sorted(ring[0].customdata.tolist()) == [2, 3]
    fx.controls["colour"].value = "fold"
    assert {t.name for t in fx.figure.data} - {"flipped label"} == {"fold 1", "fold 2", "fold 3"}
    fx.controls["colour"].value = "noise"
    assert sum(len(t.x) for t in fx.figure.data if t.name.startswith("flipped:")) == 2 * 2
    fx.controls["highlight_flipped"].value = False
    assert "flipped label" not in {t.name for t in fx.figure.data}
    fx.controls["au"].value = 12
    assert fx.figure.layout.annotations[0].text == "WCE: AU12, pca"
    pres = [t for t in fx.figure.data if t.name == "clean present"][0]
    assert all(t.startswith(table.ids[i]) for t, i in zip(pres.hovertext, pres.customdata))   # hover: the frame id
    fx.on_point(pres, SimpleNamespace(point_inds=[0]))                 # a click on a point selects it
    i = int(pres.customdata[0])
    assert fx.state.selected == i and fx.controls["selected"].value == i
    assert bytes(fx.image.value).startswith(b"\x89PNG") and table.ids[i] in fx.caption.value
    star = [t for t in fx.figure.data if t.name == "selected frame"]
    assert len(star) == 2 and star[0].customdata[0] == i


def _committed(name):
    "The committed text of nbs/NAME (a user's executed, saved working copy may hold outputs: that is fine)."
    r = subprocess.run(["git", "show", f"HEAD:nbs/{name}"], cwd=ROOT, capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else (ROOT / "nbs" / name).read_text()


def test_committed_notebooks_are_small():
    """Committed as `tools/nb_metadata.py --clean` leaves them: no widget state, no plotly figure or plotly.js, no
    widget id (a figure is a one-line placeholder until the notebook runs), nothing over 20 kB per output."""
    for name in NOTEBOOKS:
        nb = json.loads(_committed(name))
        assert "widgets" not in nb["metadata"], f"{name}: widget state committed (tools/nb_metadata.py --clean)"
        for c in nb["cells"]:
            for o in c.get("outputs", []):
                d = o.get("data", {})
                assert not {"application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json"} & set(d), name
                assert len(json.dumps(o)) < 20_000 and "plotly.js" not in json.dumps(o).lower(), name


def test_strip_large_outputs():
    """What nbdev_clean keeps but git should not: plotly figures, widget state, outputs over 100 kB; widget ids go in
    the committed form (their text line stays), and stay with `widget_views=False` (CI's check)."""
    import copy
    sys.path.insert(0, str(ROOT / "tools"))
    from nb_metadata import strip_large
    small = {"output_type": "execute_result", "data": {"text/plain": "3"}, "metadata": {}}
    view = {"output_type": "display_data", "metadata": {}, "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "ab"},
                                                                    "text/plain": "<plotly figure: t>"}}
    nb = {"metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {}}, "kernelspec": {}},
          "cells": [{"cell_type": "code", "outputs": [
              small, {"output_type": "display_data", "data": {"application/vnd.plotly.v1+json": {}}},
              view, {"output_type": "display_data", "data": {"application/vnd.jupyter.widget-view+json": {}}},
              {"output_type": "display_data", "data": {"text/html": "<script>/* plotly.js v3 */</script>"}},
              {"output_type": "display_data", "data": {"text/html": "x" * 200_000}}]}]}
    ci = strip_large(copy.deepcopy(nb), widget_views=False)
    assert ci["cells"][0]["outputs"] == [small, view, nb["cells"][0]["outputs"][3]] and list(ci["metadata"]) == ["kernelspec"]
    strip_large(nb)
    placeholder = {**view, "data": {"text/plain": "<plotly figure: t>"}}
    assert nb["cells"][0]["outputs"] == [small, placeholder] and list(nb["metadata"]) == ["kernelspec"]


def _widget_plotly(nb) -> bool:
    "A figure in the saved widget state (papermill stores it): an Output widget holding plotly's mime type."
    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return any("application/vnd.plotly.v1+json" in json.dumps(m.get("state", {}).get("outputs", []))[:100_000] for m in state.values())


def _papermill(src, dst, cwd, *params):
    args = [sys.executable, "-m", "papermill", str(ROOT / "nbs" / src), str(dst), "-k", "python3"]
    for k, v in params: args += ["-p", k, str(v)]
    r = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    return nbformat.read(dst, as_version=4)


def _text(nb):
    out = []
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            out.append(str(o.get("text", "")) if o["output_type"] == "stream" else json.dumps(o.get("data", {}))[:2000])
    return "\n".join(out)


def _has_plotly(nb):
    "Figures drawn: shown through `use_widget_figures` (a widget id in the output, the figure in the saved widget state)."
    views = any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) and "plotly figure" in str(o["data"].get("text/plain"))
                for c in nb["cells"] for o in c.get("outputs", []))
    return views and _widget_plotly(nb) and len(json.dumps(nb["cells"])) < 500_000   # no plotly.js (4.7 MB) in the outputs


def test_papermill_notebooks(tmp_path):
    """explore_features with no checkpoint trains a tiny pair and draws t-SNE (and UMAP) maps; explore_gradients then
    explores a real batch of that AUNCE checkpoint."""
    runs = tmp_path / "runs"
    feat = _papermill("explore_features.ipynb", tmp_path / "features.ipynb", tmp_path,
                      ("out_dir", runs), ("n_samples", 80), ("frames", 40))
    text = _text(feat)
    assert "trained a tiny WCE model" in text and "trained a tiny AUNCE model" in text and _has_plotly(feat)
    assert (runs / "aunce" / "model.safetensors").is_file() and (runs / "wce" / "checkpoint.pt").is_file()
    grad = _papermill("explore_gradients.ipynb", tmp_path / "gradients.ipynb", tmp_path,
                      ("checkpoint", runs / "aunce"), ("real_batch", 24), ("beta_min", 1.5))
    text = _text(grad)
    assert "aunce checkpoint" in text and "frames of test" in text and _has_plotly(grad)


def test_feature_explorer_live_figurewidget():
    "With anywidget installed the plot is a go.FigureWidget whose hover/click callbacks show and select frames."
    pytest.importorskip("anywidget")
    from plotly.callbacks import Points
    from aunce.explore import FeatureExplorer, FeatState, FrameTable
    rng = np.random.default_rng(0)
    n = 30
    lab = (rng.random((n, 1)) < 0.4).astype(int); lab[0] = 1; lab[1] = 0
    table = FrameTable(ids=[f"S1/V1/{i}" for i in range(n)], labels=lab, aus=[1], subjects=["S1"] * n,
                       images=rng.integers(0, 255, (n, 8, 8, 3), dtype=np.uint8))
    fx = FeatureExplorer({"A": rng.normal(size=(n, 1, 4))}, table, FeatState(au=1, method="pca"), methods=("pca",))
    assert fx.fig_widget is not None and [t.name for t in fx.fig_widget.data] == [t.name for t in fx.figure.data]
    assert "application/vnd.jupyter.widget-view+json" in fx._repr_mimebundle_()   # the explorer builds around a FigureWidget
    tr = fx.fig_widget.data[0]
    pts = Points(point_inds=[1], xs=[0.0], ys=[0.0], trace_name=tr.name, trace_index=0)
    tr._dispatch_on_hover(pts, None)                      # hover: thumbnail and caption only
    i = int(tr.customdata[1])
    assert fx.state.selected is None and table.ids[i] in fx.caption.value
    tr._dispatch_on_click(pts, None)                      # click: select
    assert fx.state.selected == i and "selected frame" in [t.name for t in fx.fig_widget.data]


def test_hcl_everywhere_against_loops():
    "neg_power='hcl' in every gradient helper: autograd (negative_log_term) against the loop references, float64."
    import torch
    from aunce.reweighting import NEG_POWERS
    from aunce.explore import (GradState, GradientExplorer, exact_ratios_naive, gradient_share, gradient_share_naive,
                               neg_exponent, ratio_data, ratio_entropy, ratio_entropy_naive, sample_cosines,
                               share_formula, _batch_classes)
    assert "hcl" in NEG_POWERS and neg_exponent(1.2, "hcl") == 1.2
    for seed, beta, spread in [(0, 1.2, 0.3), (1, 0.4, 0.6), (2, 2.5, 0.1)]:
        d = ratio_data(GradState(neg_power="hcl", beta_min=beta, spread=spread, seed=seed, n_neg=20))
        np.testing.assert_allclose(d["exact"].numpy(), exact_ratios_naive(d["s_pos"], d["s_neg"].tolist(), beta, "hcl"),
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(d["signed"].sum().item(), 1.0, rtol=1e-12)
        np.testing.assert_allclose(ratio_entropy(d["s_neg"], [beta], "hcl").item(),
                                   ratio_entropy_naive(d["s_neg"].tolist(), beta, "hcl"), rtol=1e-12)
        ex = gradient_share(0.25, beta, 0.4, n=24, spread=spread, seed=seed, neg_power="hcl")
        S = sample_cosines((24, 24), spread, seed=seed) / 0.5
        np.testing.assert_allclose(ex["minority"], gradient_share_naive(S, _batch_classes(0.25, 24).tolist(), beta, 0.4,
                                                                        1.0, "hcl"), rtol=1e-10)
    with pytest.raises(ValueError, match="no equal-σ share formula"):
        share_formula(0.2, 1.2, 0.4, "hcl")
    gx = GradientExplorer(GradState())
    gx.controls["neg_power"].value = "hcl"          # the toggle: every figure redraws, no error
    assert "hcl" in gx.controls["neg_power"].options and gx.error is None
    assert "hcl" in gx.figures["ratio"].layout.title.text
    assert [t.name for t in gx.figures["entropy"].data][2] == "exact ratios, hcl"
    share = gx.figures["share"]
    assert not any("formula" in (t.name or "") for t in share.data)
    assert any("no equal-σ formula" in a.text for a in share.layout.annotations)
