"""Make README.md from nbs/index.ipynb (Quarto, which nbdev_readme needs, is not available).

`python tools/make_readme.py` writes README.md; `--check` fails when README.md is out of date."""
import sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parents[1]

def render() -> str:
    nb = nbformat.read(root / "nbs" / "index.ipynb", as_version=4)
    for c in nb.cells:  # drop nbdev directives (#| ...) and outputs from the README
        if c.cell_type == "code":
            c.source = "\n".join(l for l in c.source.splitlines() if not l.startswith("#|")).strip()
            c.outputs = []
    nb.cells = [c for c in nb.cells if c.source.strip()]
    body, _ = MarkdownExporter().from_notebook_node(nb)
    return "<!-- generated from nbs/index.ipynb by tools/make_readme.py: do not edit -->\n\n" + body.strip() + "\n"

if __name__ == "__main__":
    text, out = render(), root / "README.md"
    if "--check" in sys.argv:
        if not out.exists() or out.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `make readme` (python tools/make_readme.py)")
    else:
        out.write_text(text)
