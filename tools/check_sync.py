"""`make test`'s sync check: the exported modules match the notebooks, whatever state the notebooks are in.

    .venv/bin/python tools/check_sync.py            # aunce/ == nbdev_export of nbs/ (a temporary copy)
    .venv/bin/python tools/check_sync.py --clean    # CI: also, the notebooks are clean (nothing to strip)

nbs/, settings.ini and aunce/ are copied into a temporary folder and `nbdev_export` runs there; the check fails
when a module it writes differs from the checkout's. A notebook that was executed and saved (outputs, widget
state, JupyterLab metadata) exports the same code, so a user's Run-All-and-save does not stop the tests; a
notebook edited without re-exporting does. Nothing in the checkout is written.

`--clean` (a fresh clone in CI) also cleans the copied notebooks as a commit needs them (`tools/nb_metadata.py
--clean` without the metadata, keeping widget ids: nbdev_clean, then plotly figures, widget state and outputs over
100 kB removed) and fails when that changes a notebook. A notebook committed after `nbdev_clean` alone passes.
"""
from __future__ import annotations
import argparse, filecmp, os, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clean", action="store_true", help="also fail on notebooks that are not clean (CI)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to check (default: this one)")
    a = ap.parse_args(argv)
    root = a.root.resolve()
    bin_dir = Path(sys.executable).parent
    problems = []
    with tempfile.TemporaryDirectory(prefix="aunce-sync-") as tmp:
        t = Path(tmp)
        shutil.copy2(root / "settings.ini", t / "settings.ini")
        shutil.copytree(root / "nbs", t / "nbs", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "runs", "_*"))
        shutil.copytree(root / "aunce", t / "aunce", ignore=shutil.ignore_patterns("__pycache__"))
        r = subprocess.run([str(bin_dir / "nbdev_export")], cwd=t, capture_output=True, text=True)
        if r.returncode: print(r.stdout, r.stderr, sep="\n"); return 1
        for f in sorted((t / "aunce").glob("*.py")):
            mine = root / "aunce" / f.name
            if not mine.exists() or not filecmp.cmp(f, mine, shallow=False): problems.append(f"aunce/{f.name}")
        if problems:
            print("nbdev_export of nbs/ changes these modules:", *problems, sep="\n  ")
            print("run `.venv/bin/nbdev_export` and commit the modules with their notebooks")
        if a.clean:
            import json
            from nb_metadata import clean, dumps
            os.chdir(t)                       # nbdev reads settings.ini from the working folder
            dirty = []
            for nbp in sorted((t / "nbs").glob("*.ipynb")):
                text = nbp.read_text(encoding="utf-8")
                if dumps(clean(json.loads(text), widget_views=False)) != text: dirty.append(f"nbs/{nbp.name}")
            os.chdir(root)
            if dirty:
                print("these notebooks are not clean (large outputs, widget state or metadata to strip):", *dirty, sep="\n  ")
                print("run `.venv/bin/python tools/nb_metadata.py --clean NOTEBOOK` and commit")
                problems += dirty
    if not problems: print("exported modules are in sync with nbs/" + (" and the notebooks are clean" if a.clean else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
