"""What a user's Run All + save in JupyterLab, then `nbdev_clean`, does to a notebook in git: the saved size and the
diff against the checkout's copy, in lines (insertions + deletions, as `git diff --numstat` counts them).

    .venv/bin/python tools/run_all_diff.py nbs/explore_gradients.ipynb nbs/explore_features.ipynb nbs/train.ipynb
    .venv/bin/python tools/run_all_diff.py --keep /tmp/saved nbs/train.ipynb     # keep the saved, cleaned copies

A temporary copy of nbs/, settings.ini and aunce/ is served by JupyterLab 4 (its default settings: widget state is
not saved); Debian's chromium, driven by Playwright, opens each notebook, runs all cells, waits for them and saves
(as `tests/test_browser.py` does). `nbdev_clean` then runs on the saved copy with this checkout's settings.ini, and
`git diff --no-index --numstat` counts its lines against the checkout's notebook. Takes a few minutes; needs
/usr/bin/chromium and playwright (`make install`).
"""
from __future__ import annotations
import argparse, json, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def start_lab(work: Path) -> tuple[subprocess.Popen, str]:
    "Copy nbs/, settings.ini and aunce/ into `work` and serve it with JupyterLab (no token); returns (process, url)."
    shutil.copy2(ROOT / "settings.ini", work / "settings.ini")
    shutil.copytree(ROOT / "nbs", work / "nbs", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "runs", "_*"))
    shutil.copytree(ROOT / "aunce", work / "aunce", ignore=shutil.ignore_patterns("__pycache__"))
    (work / "nbs" / "runs").mkdir()
    for d in ("config", "data", "runtime", "settings", "workspaces"): (work / ".jupyter" / d).mkdir(parents=True)
    news = work / ".jupyter" / "settings" / "@jupyterlab" / "apputils-extension"      # no "Jupyter news?" pop-up
    news.mkdir(parents=True); (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
           "JUPYTER_CONFIG_DIR": str(work / ".jupyter" / "config"), "JUPYTER_RUNTIME_DIR": str(work / ".jupyter" / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(work / ".jupyter" / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(work / ".jupyter" / "workspaces")}
    cmd = [str(BIN / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.root_dir={work}",
           "--IdentityProvider.token=", "--ServerApp.password=", "--LabApp.expose_app_in_browser=True",
           "--ServerApp.disable_check_xsrf=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0: cmd.append("--allow-root")
    log = open(work / "lab.log", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/api/status", timeout=2); return proc, url
        except Exception:
            if proc.poll() is not None: raise RuntimeError(f"jupyter lab exited: {(work / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    proc.terminate(); raise RuntimeError("jupyter lab did not start in 2 minutes")


def wait_for(pg, js: str, timeout: float = 300, what: str = ""):
    """Poll the page until `js` is truthy; its value, or a TimeoutError naming `what`. Every few seconds a screenshot
    makes headless chromium paint a frame: without one JupyterLab's Run All stalled after a cell or two."""
    t0 = last = time.time()
    while time.time() - t0 < timeout:
        v = pg.evaluate(js)
        if v: return v
        if time.time() - last > 3: pg.screenshot(); last = time.time()
        time.sleep(0.25)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what or js}")


def open_notebook(pg, url: str, name: str):
    "Open nbs/`name` alone: earlier kernels shut down, a fresh workspace (no other tab restored)."
    for sess in json.loads(urllib.request.urlopen(url + "/api/sessions").read()):
        urllib.request.urlopen(urllib.request.Request(f"{url}/api/sessions/{sess['id']}", method="DELETE"))
    open_notebook.n = getattr(open_notebook, "n", 0) + 1
    pg.goto(f"{url}/lab/workspaces/w{open_notebook.n}/tree/nbs/{name}?reset")
    wait_for(pg, "() => !!document.querySelector('.jp-NotebookPanel .jp-Cell')", 120, "the notebook")
    wait_for(pg, "() => { const e = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');"
                 " return e && e.getAttribute('data-status') === 'idle'; }", 120, "an idle kernel")
    wait_for(pg, "() => { const k = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel;"
                 " return k && k.connectionStatus === 'connected' && k.status === 'idle'; }", 120, "a connected kernel")
    pg.screenshot(); time.sleep(3.0)         # a Run All sent sooner was lost now and then when the websocket reconnected


def command(pg, cmd: str, args: dict | None = None):
    pg.evaluate("([c, a]) => window.jupyterapp.commands.execute(c, a || {})", [cmd, args])


def save(pg):
    command(pg, "docmanager:save")
    wait_for(pg, "() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')", 60, "the save")
    time.sleep(0.5)


def run_all(pg, timeout: float = 600) -> list[str]:
    "Run every cell of the open notebook and wait for all of them; the tracebacks shown (empty when none)."
    command(pg, "notebook:run-all-cells")
    time.sleep(1.0)
    wait_for(pg, """() => {
        const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
        const ps = [...nb.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim());
        return ps.length && ps.every(t => /^\\[\\d+\\]:$/.test(t));
    }""", timeout, "every cell to run")
    return pg.evaluate("""() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')]
        .filter(o => o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr' ? /Traceback|Error:/.test(o.textContent)
                     : /Traceback \\(most recent call last\\)/.test(o.textContent)).map(o => o.textContent.slice(0, 600))""")


def diff_lines(a: Path, b: Path) -> int:
    "Lines inserted plus deleted from `a` to `b`, as `git diff --numstat` counts them."
    r = subprocess.run(["git", "diff", "--no-index", "--numstat", str(a), str(b)], capture_output=True, text=True)
    return sum(int(x) for line in r.stdout.splitlines() for x in line.split()[:2] if x.isdigit())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="+", type=Path, help="notebooks in nbs/")
    ap.add_argument("--keep", type=Path, help="copy the saved (and the cleaned) notebooks into this folder")
    ap.add_argument("--timeout", type=float, default=900, help="seconds one Run All may take")
    a = ap.parse_args(argv)
    for p in a.notebooks:
        if p.resolve().parent != ROOT / "nbs" or not p.exists(): ap.error(f"{p}: not a notebook in {ROOT / 'nbs'}")
    if not CHROMIUM.exists(): ap.error(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))     # a kill still stops JupyterLab (finally below)
    rows = []
    with tempfile.TemporaryDirectory(prefix="aunce-runall-") as tmp:
        work = Path(tmp)
        proc, url = start_lab(work)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
                pg = browser.new_page(viewport={"width": 1280, "height": 800})
                for nbp in a.notebooks:
                    t0 = time.time()
                    log = lambda what: print(f"[{time.time() - t0:5.0f}s] {nbp.name}: {what}", file=sys.stderr, flush=True)
                    open_notebook(pg, url, nbp.name); log("opened; Run All")
                    try: errors = run_all(pg, a.timeout)
                    except TimeoutError:
                        if a.keep: a.keep.mkdir(parents=True, exist_ok=True); pg.screenshot(path=str(a.keep / f"{nbp.stem}.timeout.png"))
                        raise
                    time.sleep(2.0)                       # late widget and figure messages
                    log("ran; saving"); save(pg); log("saved")
                    saved = work / "nbs" / nbp.name
                    size = saved.stat().st_size
                    if a.keep: a.keep.mkdir(parents=True, exist_ok=True); shutil.copy2(saved, a.keep / nbp.name)
                    subprocess.run([str(BIN / "nbdev_clean"), "--fname", str(saved)], cwd=work, check=True)
                    if a.keep: shutil.copy2(saved, a.keep / (nbp.stem + ".clean.ipynb"))
                    rows.append((nbp.name, size, saved.stat().st_size, diff_lines(ROOT / "nbs" / nbp.name, saved),
                                 time.time() - t0, len(errors)))
                    if errors: print(f"{nbp.name}: errors shown after Run All:", *errors, sep="\n  ", file=sys.stderr)
                browser.close()
        finally:
            proc.terminate()
            try: proc.wait(20)
            except subprocess.TimeoutExpired: proc.kill()
    print(f"{'notebook':28s} {'saved':>10s} {'cleaned':>10s} {'diff lines':>10s} {'s':>6s}")
    for name, size, csize, n, s, _ in rows: print(f"{name:28s} {size:10,d} {csize:10,d} {n:10d} {s:6.0f}")
    return 1 if any(r[5] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
