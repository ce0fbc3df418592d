"""Make README.md from nbs/index.ipynb (Quarto, which nbdev_readme needs, is not available); code cells are run
in-process and their text outputs shown, so the README's examples show what they print.

`python tools/make_readme.py` writes README.md; `--check` fails when README.md is out of date."""
import sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parents[1]

def render() -> str:
    nb = nbformat.read(root / "nbs" / "index.ipynb", as_version=4)
    for c in nb.cells:  # drop nbdev directives (#| ...); outputs come from running the cells below, not the file
        if c.cell_type == "code":
            c.source = "\n".join(l for l in c.source.splitlines() if not l.startswith("#|")).strip()
            c.outputs = []
    nb.cells = [c for c in nb.cells if c.source.strip()]
    from execnb.shell import CaptureShell  # run the code cells in-process so the README shows their (text) outputs
    shell = CaptureShell()
    for c in nb.cells:
        if c.cell_type != "code": continue
        outs = shell.run(c.source)
        c.outputs = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "".join(o["text"])} if o["output_type"] == "stream"
                     else {"output_type": "execute_result", "execution_count": None, "metadata": {},
                           "data": {"text/plain": "".join(o["data"].get("text/plain", ""))}})   # text only: the README is Markdown
                     for o in outs if o.get("output_type") in ("stream", "execute_result")]
    body, _ = MarkdownExporter().from_notebook_node(nb)
    return "<!-- generated from nbs/index.ipynb by tools/make_readme.py: do not edit -->\n\n" + body.strip() + "\n"

if __name__ == "__main__":
    text, out = render(), root / "README.md"
    if "--check" in sys.argv:
        if not out.exists() or out.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `make readme` (python tools/make_readme.py)")
    else:
        out.write_text(text)
