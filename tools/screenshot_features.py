"""The feature explorer's screenshot (docs/screenshots/feature_explorer.png) with a trained pair, as a user meets it:
JupyterLab at 1280x800 in headless Debian chromium, `nbs/explore_features.ipynb` run with its checkpoint parameters
set, one frame selected.

    .venv/bin/python tools/screenshot_features.py --aunce runs/demo/aunce --wce runs/demo/wce
    .venv/bin/python tools/screenshot_features.py --aunce RUN --wce RUN --out /tmp/fx.png --au 12

The notebook's defaults (a one-epoch tiny pair) are what `tests/test_browser.py` drives and screenshots into
runs/screenshots/; this draws the documentation's picture from checkpoints that have learned something. Needs
/usr/bin/chromium and playwright (`make install`); takes about a minute.
"""
from __future__ import annotations
import argparse, json, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all_diff import ARGS, CHROMIUM, ROOT, open_notebook, run_all, start_lab  # noqa: E402


def set_parameters(nb_path: Path, values: dict):
    "Inject `values` after the notebook's `parameters` cell, as `papermill -p` does (papermill's own function)."
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook
    nbformat.write(parameterize_notebook(load_notebook_node(str(nb_path)), values), str(nb_path))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aunce", required=True, type=Path, help="AUNCE run folder or checkpoint")
    ap.add_argument("--wce", required=True, type=Path, help="WCE run folder or checkpoint")
    ap.add_argument("--au", type=int, default=0, help="the AU shown (0: the first)")
    ap.add_argument("--frame", type=int, default=5, help="index of the frame selected in the frame dropdown")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "feature_explorer.png")
    a = ap.parse_args(argv)
    for p in (a.aunce, a.wce):
        if not p.exists(): raise SystemExit(f"{p}: no such run folder or checkpoint")
    if not CHROMIUM.exists(): raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    from aunce.explore import load_model
    from aunce.config import TrainConfig, synth_root
    cfg = TrainConfig.from_dict(load_model(a.wce).config)    # the lab serves a temporary copy (its own project root, no runs/cache): give the data as an absolute path
    data_root = str(Path(cfg.data_root).resolve()) if cfg.data_root else (str(synth_root(cfg).resolve()) if cfg.dataset == "synth" else "")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc, url = start_lab(work)
        try:
            set_parameters(work / "nbs" / "explore_features.ipynb",
                           {"checkpoint_aunce": str(a.aunce.resolve()), "checkpoint_wce": str(a.wce.resolve()),
                            "data_root": data_root, "show_umap": False, "au": a.au})
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
                pg = browser.new_page(viewport={"width": 1280, "height": 800})
                open_notebook(pg, url, "explore_features.ipynb")
                errors = run_all(pg, 600)
                if errors: raise SystemExit(f"the notebook failed: {errors[0]}")
                fx = pg.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output > .jupyter-widgets.widget-vbox").first
                fx.locator("select").nth(3).select_option(index=a.frame + 1)     # index 0 is "(none)"
                pg.wait_for_timeout(2000)
                for _ in range(3):     # JupyterLab renders cells as they come into view: scroll until it stays
                    fx.evaluate("el => el.scrollIntoView({block: 'start'})")
                    time.sleep(1.0)
                a.out.parent.mkdir(parents=True, exist_ok=True)
                pg.screenshot(path=str(a.out))
                browser.close()
            from PIL import Image      # a palette of 128 colours: a quarter of the size, looks the same
            Image.open(a.out).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(a.out, optimize=True)
        finally:
            proc.terminate()
            try: proc.wait(20)
            except subprocess.TimeoutExpired: proc.kill()
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
