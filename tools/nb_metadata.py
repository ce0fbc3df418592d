"""Give notebooks the metadata JupyterLab writes when it opens them with the project's kernel, so that opening
and saving an unexecuted notebook changes nothing; optionally clean them for git.

    .venv/bin/python tools/nb_metadata.py nbs/12_explore.ipynb ...   # set kernelspec + language_info
    .venv/bin/python tools/nb_metadata.py --check nbs/*.ipynb        # exit 1 if a notebook lacks that metadata
    .venv/bin/python tools/nb_metadata.py --show                     # print the metadata
    .venv/bin/python tools/nb_metadata.py --clean nbs/*.ipynb        # the committed form (nbdev_clean + strip_large)

The metadata is read from the kernel itself, as JupyterLab does: `kernelspec` (name, display_name, language) from
the `python3` kernel spec of this environment, `language_info` from the kernel's `kernel_info` reply (it holds the
exact Python version). `nbdev_clean` keeps both (settings.ini `allowed_metadata_keys = language_info`) but always
sets `kernelspec.display_name` to the kernel's name, so the project's kernel is installed with
`--display-name python3` (Makefile) and the two agree.

`--clean` gives the form a notebook is committed in: nbdev's own clean (settings.ini), then `strip_large`, which
removes what nbdev_clean keeps but git should not hold: the saved widget state (`metadata.widgets`, written by
papermill or by JupyterLab's "Save widget state" setting), plotly figures stored as JSON or HTML, any output over
100 kB, and the widget ids of outputs, whose one-line text stays as the placeholder a notebook shows before it runs.
The notebooks draw their figures through `aunce.explore.use_widget_figures()`, so after Run All + save `nbdev_clean`
alone leaves a few lines per figure against that committed form (`tools/run_all_diff.py` measures it); CI
(`tools/check_sync.py --clean`) accepts widget ids too and fails only on what is large.
"""
from __future__ import annotations
import argparse, json, sys
from pathlib import Path

KERNEL = "python3"
LARGE = 100_000
PLOTLY = "application/vnd.plotly.v1+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def jupyterlab_metadata(kernel: str = KERNEL) -> dict:
    "The `kernelspec` and `language_info` JupyterLab writes for `kernel` (starts the kernel once to ask it)."
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel
    spec = KernelSpecManager().get_kernel_spec(kernel)
    if spec.display_name != kernel:
        print(f"warning: kernel {kernel!r} is displayed as {spec.display_name!r}; nbdev_clean rewrites the display "
              f"name to {kernel!r}: reinstall it with `python -m ipykernel install --sys-prefix --name {kernel} "
              f"--display-name {kernel}` (make install does)", file=sys.stderr)
    km, kc = start_new_kernel(kernel_name=kernel)
    try:
        kc.kernel_info()
        reply = kc.get_shell_msg(timeout=60)
        while reply["msg_type"] != "kernel_info_reply": reply = kc.get_shell_msg(timeout=60)
        info = reply["content"]["language_info"]
    finally:
        kc.stop_channels(); km.shutdown_kernel(now=True)
    return {"kernelspec": {"display_name": spec.display_name, "language": spec.language, "name": kernel},
            "language_info": info}


def _plotly_html(o: dict) -> bool:
    h = o.get("data", {}).get("text/html", "")
    h = "".join(h) if isinstance(h, list) else h
    return "Plotly.newPlot" in h or "plotly.js" in h.lower()[:2000]


def strip_large(nb: dict, widget_views: bool = True) -> dict:
    """Drop the saved widget state, plotly figures (JSON, or HTML with plotly.js), outputs over 100 kB and, with
    `widget_views`, the widget id of an output (its text line stays as a placeholder). Changes `nb` in place."""
    nb.get("metadata", {}).pop("widgets", None)
    for c in nb.get("cells", []):
        if "outputs" not in c: continue
        keep = []
        for o in c["outputs"]:
            d = o.get("data", {})
            if PLOTLY in d or _plotly_html(o) or len(json.dumps(o)) > LARGE: continue
            if widget_views and WIDGET_VIEW in d:
                d = {k: v for k, v in d.items() if k != WIDGET_VIEW}
                if not d: continue
                o = {**o, "data": d}
            keep.append(o)
        c["outputs"] = keep
    return nb


def dumps(nb: dict) -> str:
    "The text nbformat, JupyterLab and nbdev all write."
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def clean(nb: dict, meta: dict | None = None, widget_views: bool = True) -> dict:
    "nbdev_clean (this checkout's settings.ini), `strip_large`, and the JupyterLab metadata when given."
    from nbdev.clean import _nbdev_clean
    _nbdev_clean(nb)
    strip_large(nb, widget_views)
    if meta: nb.setdefault("metadata", {}).update(json.loads(json.dumps(meta)))
    return nb


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--check", action="store_true", help="only report notebooks whose metadata differs (exit 1)")
    ap.add_argument("--clean", action="store_true", help="also nbdev_clean and strip large outputs")
    ap.add_argument("--show", action="store_true", help="print the metadata JupyterLab writes")
    ap.add_argument("--kernel", default=KERNEL)
    a = ap.parse_args(argv)
    meta = jupyterlab_metadata(a.kernel)
    if a.show: print(json.dumps(meta, indent=1))
    bad = []
    for p in a.notebooks:
        text = p.read_text(encoding="utf-8")
        nb = json.loads(text)
        if a.check:
            if any(nb.get("metadata", {}).get(k) != v for k, v in meta.items()): bad.append(p)
            continue
        if a.clean: clean(nb)
        nb.setdefault("metadata", {}).update(meta)
        new = dumps(nb)
        if new != text:
            p.write_text(new, encoding="utf-8"); print(f"updated {p}")
    if bad:
        print("notebooks without JupyterLab's metadata (run tools/nb_metadata.py on them):", *map(str, bad), sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
