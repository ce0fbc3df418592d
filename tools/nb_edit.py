"""Edit notebook cells from the shell or from Python, without opening JupyterLab (then run `nbdev_export`).

    python tools/nb_edit.py show nbs/03_data.ipynb [TEXT]        # cells (index, type, first line) [that hold TEXT]
    python tools/nb_edit.py replace nbs/03_data.ipynb OLD NEW     # OLD -> NEW in the one cell that holds OLD
    python tools/nb_edit.py insert nbs/03_data.ipynb TEXT CELL.py # insert cells after the cell holding TEXT
    python tools/nb_edit.py new nbs/16_x.ipynb CELLS.py           # a new notebook (metadata from nbs/index.ipynb)

A CELLS.py file holds cells separated by lines `# %% [markdown]` or `# %%` (code), as jupytext's percent format.
OLD and NEW may be `@file` to read the text from a file. Every edit fails unless OLD (or TEXT) is in exactly one cell.
"""
from __future__ import annotations
import json, sys, uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load(path) -> dict: return json.loads(Path(path).read_text())


def save(path, nb: dict) -> None:
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def _src(cell) -> str: return "".join(cell["source"])


def _lines(text: str) -> list[str]:
    out = text.splitlines(keepends=True)
    if out and out[-1].endswith("\n"): out[-1] = out[-1][:-1]
    return out


def cell(kind: str, text: str) -> dict:
    c = {"cell_type": kind, "id": uuid.uuid4().hex[:8], "metadata": {}, "source": _lines(text.strip("\n"))}
    if kind == "code": c.update(execution_count=None, outputs=[])
    return c


def parse_cells(text: str) -> list[dict]:
    "Cells of a percent-format text: `# %% [markdown]` (markdown, lines start with '# ' or are bare) or `# %%`."
    cells, kind, buf = [], None, []
    def flush():
        if kind is None: return
        body = "\n".join(buf).strip("\n")
        if kind == "markdown":
            body = "\n".join(l[2:] if l.startswith("# ") else ("" if l == "#" else l) for l in body.splitlines())
        cells.append(cell(kind, body))
    for line in text.splitlines():
        if line.startswith("# %%"):
            flush(); kind = "markdown" if "[markdown]" in line else "code"; buf = []
        else: buf.append(line)
    flush()
    return cells


def find(nb: dict, text: str) -> int:
    hits = [i for i, c in enumerate(nb["cells"]) if text in _src(c)]
    if len(hits) != 1: raise SystemExit(f"nb_edit: {text[:60]!r} is in {len(hits)} cells (cells {hits[:10]}), need exactly 1")
    return hits[0]


def replace(path, old: str, new: str) -> None:
    nb = load(path); i = find(nb, old)
    s = _src(nb["cells"][i])
    if s.count(old) != 1: raise SystemExit(f"nb_edit: {old[:60]!r} occurs {s.count(old)} times in cell {i}")
    nb["cells"][i]["source"] = _lines(s.replace(old, new))
    save(path, nb)


def insert(path, after: str, cells: list[dict]) -> None:
    nb = load(path); i = find(nb, after)
    nb["cells"][i + 1:i + 1] = cells
    save(path, nb)


def new(path, cells: list[dict]) -> None:
    meta = load(ROOT / "nbs" / "index.ipynb")["metadata"]
    save(path, {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5})


def _arg(s: str) -> str: return Path(s[1:]).read_text().removesuffix("\n") if s.startswith("@") else s


def main(argv) -> None:
    cmd, path, *rest = argv
    if cmd == "show":
        for i, c in enumerate(load(path)["cells"]):
            s = _src(c)
            if not rest or rest[0] in s: print(i, c["cell_type"], (s.splitlines() or [""])[0][:100])
    elif cmd == "replace": replace(path, _arg(rest[0]), _arg(rest[1]))
    elif cmd == "insert": insert(path, _arg(rest[0]), parse_cells(Path(rest[1]).read_text()))
    elif cmd == "new": new(path, parse_cells(Path(rest[0]).read_text()))
    else: raise SystemExit(__doc__)


if __name__ == "__main__": main(sys.argv[1:])
