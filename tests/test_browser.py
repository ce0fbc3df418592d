"""Both explorers in JupyterLab 4 in headless Chromium, as a user meets them at 1280x800.

A temporary copy of nbs/, settings.ini and aunce/ is served by JupyterLab on a free localhost port (token off,
`--allow-root` as root); Debian's chromium (`/usr/bin/chromium`) is driven by Playwright for Python
(`executable_path`; `playwright install` is never needed). For each explorer notebook the test

- opens it and saves it unexecuted: the file must not change (JupyterLab's metadata is committed);
- runs all cells (no error), moves widgets (a slider and the exponent toggle; the frame and AU dropdowns),
  checks that the figures changed, that the selected frame's thumbnail is the one shown (its PNG equals the
  frame's thumbnail computed here from the image file) and that hover only previews;
- checks that nothing of the explorer is cut off at 1280 px and that its rows leave no large blank gaps;
- saves screenshots to runs/screenshots/ (or $AUNCE_SCREENSHOTS).

After Run All and a save the notebooks hold outputs (figures as widget ids: a few kB, no plotly.js), and
`tools/check_sync.py` (make test's sync check) still passes on that copy; after `nbdev_clean` alone they are within a
few dozen lines of the committed notebooks and pass its CI mode (`--clean`) too.
Needs chromium and playwright (`make install` installs both); skipped without them.
"""
from __future__ import annotations
import hashlib, json, os, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
W, H = 1280, 800
SHOTS = Path(os.environ.get("AUNCE_SCREENSHOTS", ROOT / "runs" / "screenshots"))
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tools"))
from run_all_diff import start_lab, open_notebook as _open, run_all, save as _save  # noqa: E402  (drives JupyterLab as the diff tool does)

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)")]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright for Python is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    "A JupyterLab server on a temporary copy of the notebooks (`tools/run_all_diff.start_lab`); yields (base url, copy root)."
    work = tmp_path_factory.mktemp("lab")
    try: proc, url = start_lab(work)
    except RuntimeError as e: pytest.fail(str(e))
    try:
        yield url, work
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()


@pytest.fixture(scope="module")
def page(lab):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        pg = browser.new_page(viewport={"width": W, "height": H})
        yield pg
        browser.close()


def _dirty(pg) -> bool:
    return pg.evaluate("() => !!document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')")


def _run_all(pg, timeout=600):
    errors = run_all(pg, timeout)
    assert not errors, errors


def _explorer(pg, index: int = 0):
    "The explorer's root widget: the first (or index-th) top-level widget box in an output of the open notebook."
    return pg.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output > .jupyter-widgets.widget-vbox").nth(index)


def _plot_sig(loc) -> str:
    "A fingerprint of what the plots inside `loc` draw (titles, axis ticks, marker and bar paths)."
    return loc.evaluate("""el => [...el.querySelectorAll('.js-plotly-plot, .plot-container')].map(p =>
        [...p.querySelectorAll('.gtitle, .annotation-text, .xtick text, .point, .bars path, .scatterlayer path')]
          .map(e => e.textContent + (e.getAttribute('d') || '') + (e.getAttribute('transform') || '')).join('|')).join('#')""")


def _changed(loc, sig: str, timeout: float = 120) -> bool:
    "Wait until the plots inside `loc` draw something else than `sig` (the explorer recomputes, maybe a projection)."
    t0 = time.time()
    while time.time() - t0 < timeout:
        if _plot_sig(loc) != sig: time.sleep(0.5); return True
        time.sleep(0.25)
    return False


def _fits(pg, loc, what):
    """Nothing of the explorer is cut off: every visible part lies within the notebook's visible width, no output
    area scrolls sideways, and no vertical gap between the explorer's rows is larger than 60 px."""
    r = loc.evaluate("""el => {
        const nb = el.closest('.jp-WindowedPanel-outer') || el.closest('.jp-Notebook');
        const right = Math.min(nb.getBoundingClientRect().right, window.innerWidth);
        const out = [];
        for (const e of [el, ...el.querySelectorAll('.widget-inline-hbox, .widget-box, .widget-toggle-buttons, .widget-dropdown,'
                                                  + ' .widget-slider, .widget-image, .widget-html, .js-plotly-plot, .main-svg, img, select')]) {
            const b = e.getBoundingClientRect();
            if (b.width > 0 && b.right > right + 1) out.push(`${e.className.baseVal ?? e.className}: right ${b.right.toFixed(0)} > ${right.toFixed(0)}`);
        }
        const area = el.closest('.jp-OutputArea');
        for (const e of [area, ...area.querySelectorAll('.jp-OutputArea-output, .widget-box, .widget-output')])
            if (e.scrollWidth > e.clientWidth + 2 && getComputedStyle(e).overflowX !== 'visible')
                out.push(`${e.className} scrolls sideways: ${e.scrollWidth} > ${e.clientWidth}`);
        const kids = [...el.children].filter(k => k.getBoundingClientRect().height > 0);
        for (let i = 1; i < kids.length; i++) {
            const gap = kids[i].getBoundingClientRect().top - kids[i - 1].getBoundingClientRect().bottom;
            if (gap > 60) out.push(`gap of ${gap.toFixed(0)} px between rows ${i - 1} and ${i}`);
        }
        return {problems: out, width: el.getBoundingClientRect().width, right: right};
    }""")
    assert r["width"] > 400, f"{what}: the explorer is only {r['width']} px wide"
    assert not r["problems"], f"{what} at {W} px: {r['problems']}"


def _shot(pg, loc, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    loc.evaluate("el => el.scrollIntoView({block: 'start'})")
    time.sleep(0.8)
    pg.screenshot(path=str(SHOTS / name))


def _img_sha(loc) -> str:
    "SHA-256 of the PNG the explorer's thumbnail <img> shows (read back from its blob: URL in the page)."
    return loc.evaluate("""async el => { const img = el.querySelector('img.widget-image, .widget-image');
        const buf = await (await fetch(img.src)).arrayBuffer();
        return [...new Uint8Array(await crypto.subtle.digest('SHA-256', buf))].map(b => b.toString(16).padStart(2, '0')).join(''); }""")


def test_open_and_save_changes_nothing(lab, page):
    "Opening and saving an unexecuted notebook in JupyterLab leaves the file as committed."
    url, work = lab
    for name in ("explore_gradients.ipynb", "explore_features.ipynb"):
        before = (work / "nbs" / name).read_bytes()
        _open(page, url, name)
        assert not _dirty(page), f"{name}: JupyterLab marks it modified on opening"
        _save(page)
        after = (work / "nbs" / name).read_bytes()
        assert after == before, f"{name}: opening and saving changed the file ({len(before)} -> {len(after)} bytes)"


def _run_explorer(page, url, notebook: str, plot_selector: str, n_plots: int):
    "Open `notebook`, run all its cells and wait for its explorer and at least `n_plots` drawn plots in it."
    _open(page, url, notebook)
    _run_all(page)
    ex = _explorer(page)
    ex.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(f"() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) {plot_selector}').length >= {n_plots}")
    return ex


def test_gradient_explorer(lab, page):
    url, work = lab
    gx = _run_explorer(page, url, "explore_gradients.ipynb", ".js-plotly-plot .main-svg", 3)
    _shot(page, gx, "gradient_explorer_start.png")
    _fits(page, gx, "gradient explorer")
    sig0 = _plot_sig(gx)
    title0 = gx.locator(".js-plotly-plot .gtitle").first.text_content()
    assert "β = 1.2" in title0, title0                                  # the start state: β_min = 1.2, minority anchor
    handle = gx.locator(".widget-slider .noUi-handle").first              # β_min
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down(); page.mouse.move(box["x"] + 60, box["y"] + box["height"] / 2, steps=8); page.mouse.up()
    assert _changed(gx, sig0), "moving the β_min slider did not redraw the figures"
    title1 = gx.locator(".js-plotly-plot .gtitle").first.text_content()
    assert title1 != title0, "moving the β_min slider did not change the ratio figure's β"
    sig1 = _plot_sig(gx)
    gx.locator(".widget-toggle-button", has_text="hcl").click()            # the exponent toggle: hcl
    assert _changed(gx, sig1), "the hcl toggle did not redraw the figures"
    assert "hcl" in gx.locator(".js-plotly-plot .gtitle").first.text_content() and _plot_sig(gx) != sig1
    assert gx.locator(".annotation-text", has_text="no equal-σ formula").count() == 1
    assert not gx.locator(".widget-html b[style*=crimson]").count(), "the explorer reports an error for hcl"
    _shot(page, gx, "gradient_explorer.png")
    _fits(page, gx, "gradient explorer (hcl)")
    _save(page)


def test_feature_explorer(lab, page, monkeypatch):
    url, work = lab
    fx = _run_explorer(page, url, "explore_features.ipynb", ".jupyter-widgets .js-plotly-plot .main-svg", 1)
    page.wait_for_timeout(1000)
    selects = fx.locator("select")
    au, method, colour, frame = (selects.nth(i) for i in range(4))
    # the documented start state after Run All: the first AU, t-SNE, coloured by AU, no frame selected
    assert method.input_value() == "tsne" or method.evaluate("s => s.options[s.selectedIndex].text") == "tsne"
    assert frame.evaluate("s => s.options[s.selectedIndex].text") == "(none)"
    assert "tsne" in fx.locator(".annotation-text").first.text_content()
    _shot(page, fx, "feature_explorer_start.png")
    _fits(page, fx, "feature explorer")
    assert fx.locator(".xtick text").count() > 0 and fx.locator(".ytick text").count() > 0, "no axis tick labels"
    sig0 = _plot_sig(fx)
    # choose a frame in the dropdown: the star and the picture move to it
    label = frame.evaluate("s => s.options[5].text")
    frame.select_option(label=label)
    page.wait_for_function("([el, id]) => el.querySelector('.widget-html').textContent.includes(id)", arg=[fx.element_handle(), label])
    assert _changed(fx, sig0), "selecting a frame did not move the star"
    caption = fx.locator(".widget-html").first.text_content()
    assert "selected" in caption and label in caption
    # the shown picture is that frame's thumbnail, computed here from its image file
    monkeypatch.chdir(work)                       # the notebook trained into <root>/runs/explore-features
    from aunce.explore import FrameTable, checkpoint_frames, load_model
    cm = load_model(work / "runs" / "explore-features" / "aunce")
    frames, _ = checkpoint_frames(cm, split="test")
    table = FrameTable.from_frames(frames)
    want = hashlib.sha256(table.thumbnail(table.ids.index(label))).hexdigest()
    assert _img_sha(fx) == want, "the thumbnail shown is not the selected frame's"
    # hover previews another frame; leaving the point brings the selection back
    pts = fx.locator(".scatterlayer .point")
    for k in range(min(pts.count(), 40)):
        b = pts.nth(k).bounding_box()
        if not b: continue
        page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
        page.wait_for_timeout(700)
        if "preview" in fx.locator(".widget-html").first.text_content(): break
    hovered = "preview" in fx.locator(".widget-html").first.text_content()
    assert hovered, "hovering points never showed a preview"
    page.mouse.move(5, 5)
    page.wait_for_timeout(1200)
    caption = fx.locator(".widget-html").first.text_content()
    assert "selected" in caption and label in caption and "preview" not in caption, caption
    assert _img_sha(fx) == want, "after the pointer left the plot the selected frame's thumbnail is not shown"
    # another AU: the figure redraws
    sig1 = _plot_sig(fx)
    au.select_option(index=1)
    assert _changed(fx, sig1), "choosing another AU did not redraw the figure"
    assert au.evaluate("s => s.options[s.selectedIndex].text") in fx.locator(".annotation-text").first.text_content()
    sig2 = _plot_sig(fx)
    au.select_option(index=0)
    assert _changed(fx, sig2)
    frame.select_option(label=label)
    page.wait_for_timeout(1500)
    _shot(page, fx, "feature_explorer.png")
    _fits(page, fx, "feature explorer (frame selected)")
    _save(page)
    print(f"hover preview seen: {hovered}")


def test_run_all_and_save_then_sync_check(lab, page):
    """The executed, saved notebooks (outputs and all) pass make test's sync check; `nbdev_clean` alone (nbdev's hooks)
    leaves them a few dozen lines from the committed ones, small, with CI's check passing; `tools/nb_metadata.py
    --clean` gives the committed form (no widget ids)."""
    url, work = lab
    for name in ("explore_gradients.ipynb", "explore_features.ipynb"):
        nb = json.loads((work / "nbs" / name).read_text())
        assert sum(len(c.get("outputs", [])) for c in nb["cells"]) > 5, f"{name} was not saved executed"
        committed = json.loads((ROOT / "nbs" / name).read_text())["metadata"]
        assert {k: nb["metadata"].get(k) for k in ("kernelspec", "language_info")} == \
               {k: committed.get(k) for k in ("kernelspec", "language_info")}, "JupyterLab changed the metadata"
        assert (work / "nbs" / name).stat().st_size < 200_000, f"{name}: {(work / 'nbs' / name).stat().st_size} bytes saved"
    sync = [sys.executable, str(ROOT / "tools" / "check_sync.py"), "--root", str(work)]
    r = subprocess.run(sync, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    nbs = [str(work / "nbs" / n) for n in ("explore_gradients.ipynb", "explore_features.ipynb")]
    subprocess.run([str(BIN / "nbdev_clean"), "--fname", nbs[0]], check=True, cwd=work, capture_output=True)
    subprocess.run([str(BIN / "nbdev_clean"), "--fname", nbs[1]], check=True, cwd=work, capture_output=True)
    for n in nbs:              # what a user's commit holds after nbdev's hooks: a few dozen lines of change
        d = subprocess.run(["git", "diff", "--no-index", "--numstat", str(ROOT / "nbs" / Path(n).name), n],
                           capture_output=True, text=True).stdout.split()
        assert d and int(d[0]) + int(d[1]) <= 60, f"{n}: nbdev_clean leaves {d[:2]} lines of diff"
    r = subprocess.run(sync + ["--clean"], capture_output=True, text=True)
    assert "explore_gradients.ipynb" not in r.stdout and "explore_features.ipynb" not in r.stdout, r.stdout
    subprocess.run([sys.executable, str(ROOT / "tools" / "nb_metadata.py"), "--clean", *nbs], check=True, cwd=work,
                   capture_output=True)
    for n in nbs:          # the committed form: no plotly figures, widget ids or widget state, small text kept
        nb = json.loads(Path(n).read_text())
        assert "widgets" not in nb["metadata"] and not any(
            {"application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json"} & set(o.get("data", {}))
            or len(json.dumps(o)) > 100_000 for c in nb["cells"] for o in c.get("outputs", [])), n
