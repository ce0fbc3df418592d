#!/usr/bin/env python
"""Run the notebooks' `#| cuda` cells where nbdev is not installed (a lent GPU machine: its own python with torch,
no nbdev, no network), as `nbdev_test --flags cuda` would, with the standard library only.

    python tools/run_cuda_cells.py                      # every notebook of nbs/ with a `#| cuda` cell, flag cuda on
    python tools/run_cuda_cells.py --list               # those notebooks and their cuda cells; runs nothing
    python tools/run_cuda_cells.py --flags none --notebooks nbs/00_aus.ipynb   # no flag on: the cuda cells skipped

Each notebook runs in a process of its own (working directory: the notebook's folder, the checkout on PYTHONPATH,
IN_TEST=1), its code cells in order in one namespace, `#| export` cells too. Like nbdev_test, a cell is skipped when
it has `#| eval: false`, calls `nbdev_export(`, or carries a flag of settings.ini's `tst_flags` (notest slow cuda)
that `--flags` did not turn on. IPython line magics and `!` shell lines become `pass`; a cell of a `%%` cell magic
other than `%%time`/`%%capture` is skipped. Where fastcore, nbdev or IPython is missing, small stand-ins of what the
notebooks use are put in their place (`fastcore.test`'s test_eq/test_ne/test_close/test_fail/test_is, `show_doc`,
`get_ipython`, `display`); `display` is in the namespace, as in a kernel. Prints per notebook PASS/FAIL, the cells run and skipped, the seconds and, on failure, the
cell and its traceback; exits 1 if any notebook failed (2 on bad arguments)."""
from __future__ import annotations
import argparse, configparser, json, os, re, subprocess, sys, time, traceback, types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_DIRECTIVE = re.compile(r"^\s*#\|\s*(.*?)\s*$")


def directives(src: str) -> dict[str, list[str]]:
    "The cell's leading `#| key args` lines as {key: args}; a key keeps its trailing colon (`eval:`), as nbdev's do."
    out = {}
    for line in src.splitlines():
        if not line.strip(): continue
        m = _DIRECTIVE.match(line)
        if not m: break
        words = m.group(1).split()
        if words: out[words[0]] = words[1:]
    return out


def tst_flags(root: Path = ROOT) -> set[str]:
    "settings.ini's `tst_flags` (the flags nbdev_test skips unless --flags names them)."
    cp = configparser.ConfigParser()
    cp.read(root / "settings.ini")
    return set(cp.get("DEFAULT", "tst_flags", fallback="notest").replace(",", " ").split())


def load_cells(nb: Path) -> list[str]:
    "The sources of the notebook's code cells, in order."
    d = json.loads(Path(nb).read_text(encoding="utf-8"))
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in d.get("cells", []) if c.get("cell_type") == "code"]


def cuda_cells(nb: Path, flag: str = "cuda") -> list[int]:
    "Indices (among the code cells) of the cells flagged `#| cuda`."
    return [i for i, s in enumerate(load_cells(nb)) if flag in directives(s)]


def skip_reason(src: str, skip: set[str]) -> str | None:
    "Why nbdev_test would not run this cell (None: it runs)."
    d = directives(src)
    if d.get("eval:", [""])[:1] == ["false"]: return "eval: false"
    if "nbdev_export" + "(" in src: return "nbdev_export"
    hit = sorted(skip & set(d))
    if hit: return "flag " + ",".join(hit)
    return None


def strip_magics(src: str) -> str | None:
    "The cell as plain Python: line magics and `!` lines as `pass`; None for a cell magic that is not run."
    lines = src.splitlines()
    first = next((i for i, l in enumerate(lines) if l.strip() and not _DIRECTIVE.match(l)), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        if lines[first].split()[0] not in ("%%time", "%%capture"): return None
        lines[first] = ""
    out = []
    for l in lines:
        s = l.lstrip()
        out.append(l[: len(l) - len(s)] + "pass" if s.startswith(("%", "!")) else l)
    return "\n".join(out)


# ----- stand-ins for the notebook-only packages, used only when the real one cannot be imported -----
def _equals(a, b) -> bool:
    if hasattr(a, "__array__") or hasattr(b, "__array__"):
        import numpy as np
        conv = lambda x: x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
        x, y = conv(a), conv(b)
        return x.shape == y.shape and bool((x == y).all())
    if isinstance(a, dict) and isinstance(b, dict): return a.keys() == b.keys() and all(_equals(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equals(x, y) for x, y in zip(a, b))
    return a == b


def _is_close(a, b, eps=1e-5) -> bool:
    if hasattr(a, "__array__") or hasattr(b, "__array__"): return bool((abs(a - b) < eps).all())
    if isinstance(a, str) or isinstance(b, str): return a == b
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return all(_is_close(x, y, eps) for x, y in zip(a, b))
    try: return abs(a - b) < eps
    except TypeError: return a == b


def _fastcore_test() -> types.ModuleType:
    m = types.ModuleType("fastcore.test")
    def test_eq(a, b): assert _equals(a, b), f"==:\n{a}\n{b}"
    def test_ne(a, b): assert not _equals(a, b), f"!=:\n{a}\n{b}"
    def test_is(a, b): assert a is b, f"is:\n{a}\n{b}"
    def test_close(a, b, eps=1e-5): assert _is_close(a, b, eps), f"close:\n{a}\n{b}"
    def test_fail(f, msg="", contains="", exc=Exception, args=None, kwargs=None):
        try: f(*(args or []), **(kwargs or {}))
        except exc as e:
            assert not contains or contains in str(e), f"{contains!r} not in {str(e)!r}. {msg}"
            return
        except Exception as e: raise AssertionError(f"Expected {exc.__name__} but got {type(e).__name__}: {e}. {msg}")
        raise AssertionError(f"Expected {exc.__name__} but none raised. {msg}")
    for f in (test_eq, test_ne, test_is, test_close, test_fail): setattr(m, f.__name__, f)
    m.equals, m.is_close = _equals, _is_close
    return m


def install_standins() -> list[str]:
    "Put stand-ins in sys.modules for fastcore.test, nbdev(.showdoc) and IPython(.display) where they are missing."
    made = []
    def missing(name):
        try: __import__(name); return False
        except Exception: return True
    if missing("fastcore.test"):
        pkg = sys.modules.get("fastcore") or types.ModuleType("fastcore")
        pkg.__path__ = []; pkg.test = _fastcore_test()
        sys.modules["fastcore"], sys.modules["fastcore.test"] = pkg, pkg.test
        made.append("fastcore.test")
    if missing("nbdev.showdoc"):
        nbdev, sd = types.ModuleType("nbdev"), types.ModuleType("nbdev.showdoc")
        nbdev.__path__ = []; sd.show_doc = lambda *a, **k: None; nbdev.showdoc = sd
        nbdev.nbdev_export = lambda *a, **k: None; nbdev.show_doc = sd.show_doc
        sys.modules.setdefault("nbdev", nbdev); sys.modules["nbdev.showdoc"] = sd
        made.append("nbdev.showdoc")
    if missing("IPython.display"):
        ip, disp = types.ModuleType("IPython"), types.ModuleType("IPython.display")
        ip.__path__ = []; ip.get_ipython = lambda: None
        class _Text:
            def __init__(self, data="", *a, **k): self.data = data
            def __repr__(self): return str(self.data)
        disp.display = lambda *objs, **k: [print(repr(o)) for o in objs] and None
        disp.Markdown = disp.HTML = disp.Image = _Text
        ip.display = disp
        sys.modules["IPython"], sys.modules["IPython.display"] = ip, disp
        made.append("IPython")
    return made


def run_one(nb: Path, skip: set[str]) -> int:
    "Run one notebook in this process (the child of `main`); print a JSON summary line last."
    os.environ["IN_TEST"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    standins = install_standins()
    cells = load_cells(nb)
    ns = {"__name__": "__main__", "__file__": str(nb)}
    try: from IPython.display import display    # a builtin of IPython kernels, which notebooks call unimported
    except Exception: display = lambda *objs, **k: None
    ns["display"] = display
    ran, skipped, t0 = 0, {}, time.perf_counter()
    for i, src in enumerate(cells):
        why = skip_reason(src, skip)
        code = None if why else strip_magics(src)
        if why is None and code is None: why = "cell magic"
        if why:
            skipped[why] = skipped.get(why, 0) + 1; continue
        try:
            exec(compile(code, f"<{nb.name} cell {i}>", "exec"), ns)
            ran += 1
        except BaseException as e:
            if isinstance(e, SystemExit) and not e.code: ran += 1; continue
            head = "\n".join(src.splitlines()[:6])
            print(f"\n--- {nb.name}: code cell {i} failed:\n{head}\n---", file=sys.stderr)
            traceback.print_exc()
            print(json.dumps({"ok": False, "ran": ran, "skipped": skipped, "cell": i, "standins": standins,
                              "error": f"{type(e).__name__}: {e}"[:300], "s": time.perf_counter() - t0}))
            return 1
    print(json.dumps({"ok": True, "ran": ran, "skipped": skipped, "standins": standins, "s": time.perf_counter() - t0}))
    return 0


def find_notebooks(nbs: Path, flag: str = "cuda") -> list[Path]:
    "The notebooks of `nbs` (not starting with _ or .) that have a `#| <flag>` cell."
    return [p for p in sorted(nbs.glob("*.ipynb")) if not p.name.startswith(("_", ".")) and cuda_cells(p, flag)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flags", default="cuda", help="flags to turn on, space or comma separated; 'none' for none (default cuda)")
    ap.add_argument("--notebooks", nargs="+", default=None, help="notebooks to run (default: those of --nbs with a `#| cuda` cell)")
    ap.add_argument("--nbs", default=str(ROOT / "nbs"), help="the notebook folder searched (default nbs/)")
    ap.add_argument("--list", action="store_true", help="list the notebooks with `#| cuda` cells and those cells; run nothing")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per notebook (default 600)")
    ap.add_argument("--quiet", action="store_true", help="do not print the output of the notebooks that fail")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--skip", default="", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one: return run_one(Path(a.one), set(a.skip.split(",")) - {""})
    on = set() if a.flags.strip().lower() in ("none", "") else set(a.flags.replace(",", " ").split())
    skip = (tst_flags() | {"cuda"}) - on
    nbs = [Path(p) for p in a.notebooks] if a.notebooks else find_notebooks(Path(a.nbs))
    missing = [str(p) for p in nbs if not p.is_file()]
    if missing: ap.error(f"no such notebook: {', '.join(missing)}")
    if a.list:
        for p in nbs:
            cells = load_cells(p)
            idx = cuda_cells(p)
            print(f"{p}: {len(idx)} cuda cell(s) of {len(cells)} code cells: " + (", ".join(
                f"{i} ({next((l for l in cells[i].splitlines() if l.strip() and not _DIRECTIVE.match(l)), '').strip()[:50]})"
                for i in idx) or "-"))
        return 0
    if not nbs: print(f"run_cuda_cells: no notebook in {a.nbs} has a `#| cuda` cell"); return 0
    print(f"run_cuda_cells: {len(nbs)} notebook(s), flags on: {' '.join(sorted(on)) or 'none'}; "
          f"cells skipped for: {' '.join(sorted(skip)) or 'nothing'}, eval: false; python {sys.executable}", flush=True)
    env = {**os.environ, "IN_TEST": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    failed, t_all = [], time.perf_counter()
    for p in nbs:
        p = p.resolve()
        t0 = time.perf_counter()
        try:
            r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", str(p), "--skip", ",".join(sorted(skip))],
                               cwd=p.parent, env=env, capture_output=True, text=True, timeout=a.timeout)
            out, err, rc = r.stdout, r.stderr, r.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            err, rc = f"timed out after {a.timeout:g} s", 124
        dt = time.perf_counter() - t0
        lines = out.strip().splitlines()
        try: summ = json.loads(lines[-1]) if lines else {}
        except ValueError: summ = {}
        sk = ", ".join(f"{n} {k}" for k, n in sorted(summ.get("skipped", {}).items())) or "none"
        extra = f"; stand-ins for {', '.join(summ['standins'])}" if summ.get("standins") else ""
        if rc == 0 and summ.get("ok"):
            print(f"PASS {p.name:28} {dt:7.1f} s  {summ['ran']} cells run, skipped: {sk}{extra}", flush=True)
            continue
        failed.append(p.name)
        where = f"code cell {summ['cell']}: {summ.get('error', '')}" if "cell" in summ else f"exit {rc}"
        print(f"FAIL {p.name:28} {dt:7.1f} s  at {where}{extra}", flush=True)
        if not a.quiet:
            body = "\n".join(lines[:-1] if summ else lines)
            if body.strip(): print("  output (last 40 lines):\n    " + "\n    ".join(body.splitlines()[-40:]))
            print("  " + "\n  ".join(err.strip().splitlines()[-60:]), flush=True)
    print(f"run_cuda_cells: {len(nbs) - len(failed)} passed, {len(failed)} failed"
          f"{' (' + ', '.join(failed) + ')' if failed else ''} in {time.perf_counter() - t_all:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
