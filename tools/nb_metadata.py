"""Give notebooks the metadata JupyterLab writes when it opens them with the project's kernel, so that opening
and saving an unexecuted notebook changes nothing; optionally clean them for git.

    .venv/bin/python tools/nb_metadata.py nbs/12_explore.ipynb ...   # set kernelspec + language_info
    .venv/bin/python tools/nb_metadata.py --check nbs/*.ipynb        # exit 1 if a notebook lacks that metadata
    .venv/bin/python tools/nb_metadata.py --show                     # print the metadata
    .venv/bin/python tools/nb_metadata.py --clean nbs/*.ipynb        # also nbdev_clean + strip large outputs

The metadata is read from the kernel itself, as JupyterLab does: `kernelspec` (name, display_name, language) from
the `python3` kernel spec of this environment, `language_info` from the kernel's `kernel_info` reply (it holds the
exact Python version). `nbdev_clean` keeps both (settings.ini `allowed_metadata_keys = language_info`) but always
sets `kernelspec.display_name` to the kernel's name, so the project's kernel is installed with
`--display-name python3` (Makefile) and the two agree.

`--clean` is what a notebook needs before a commit: nbdev's own clean (settings.ini), then `strip_large`, which
removes what nbdev_clean keeps but git should not hold: plotly figures, widget views, the saved widget state
(`metadata.widgets`) and any output over 100 kB (plotly.js itself, embedded by the offline renderer).
"""
from __future__ import annotations
import argparse, json, sys
from pathlib import Path

KERNEL = "python3"
LARGE = 100_000
STRIP_MIMES = ("application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json")


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


def strip_large(nb: dict) -> dict:
    "Drop plotly and widget-view outputs, outputs over 100 kB, and the saved widget state. Changes `nb` in place."
    nb.get("metadata", {}).pop("widgets", None)
    for c in nb.get("cells", []):
        if "outputs" in c:
            c["outputs"] = [o for o in c["outputs"] if not any(m in o.get("data", {}) for m in STRIP_MIMES)
                            and len(json.dumps(o)) <= LARGE]
    return nb


def dumps(nb: dict) -> str:
    "The text nbformat, JupyterLab and nbdev all write."
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def clean(nb: dict, meta: dict | None = None) -> dict:
    "nbdev_clean (this checkout's settings.ini), `strip_large`, and the JupyterLab metadata when given."
    from nbdev.clean import _nbdev_clean
    _nbdev_clean(nb)
    strip_large(nb)
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
