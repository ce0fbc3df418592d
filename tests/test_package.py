"""Package-level checks that do not fit a notebook: every exported module imports, README is in sync."""
import importlib, pkgutil, subprocess, sys
from pathlib import Path
import aunce

ROOT = Path(__file__).resolve().parents[1]

def test_every_module_imports():
    names = [m.name for m in pkgutil.iter_modules(aunce.__path__) if not m.name.startswith("_")]
    assert "aus" in names
    for n in names: importlib.import_module(f"aunce.{n}")

def test_readme_in_sync():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_readme.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

# --- the package's structure (issue 18): nothing public lost in the restructure, no import circle, rooms of a readable size

# console-script functions that moved to the commands' module: a library module re-exporting them would import upward
MOVED_TO_CLI = {"aunce.distributed": ["train_cli", "train_parser"], "aunce.data": ["data_cli"], "aunce.synth": ["synth_cli"],
                "aunce.predict": ["predict_cli"]}

def test_public_api_kept():
    "Every name in a module's `__all__` before the split (tests/public_api.json) is still importable from that module."
    import json
    api = json.loads((ROOT / "tests" / "public_api.json").read_text())
    cli = importlib.import_module("aunce.cli")
    lost = []
    for mod, names in api.items():
        m = importlib.import_module(mod)
        for n in names:
            if n in MOVED_TO_CLI.get(mod, []):
                assert hasattr(cli, n), n
                try: getattr(m, n); lost.append(f"{mod}.{n} still there")
                except AttributeError as e: assert "from aunce.cli import" in str(e), e
            elif not hasattr(m, n): lost.append(f"{mod}.{n}")
    assert not lost, lost

def _readme_names():
    import re
    text = (ROOT / "README.md").read_text()
    names = set(re.findall(r"\b(aunce\.\w+)\.(\w+)\b", text))
    for mod, items in re.findall(r"from (aunce\.\w+) import ([\w, ]+)", text):
        names |= {(mod, n.strip()) for n in items.split(",") if n.strip()}
    return sorted(names), sorted(set(re.findall(r"`(aunce\.\w+)`", text)))

def test_every_name_in_the_readme_imports():
    names, modules = _readme_names()
    assert len(names) >= 5 and len(modules) >= 15, (names, modules)
    for mod in modules: importlib.import_module(mod)
    missing = [f"{mod}.{n}" for mod, n in names if not hasattr(importlib.import_module(mod), n)]
    assert not missing, missing

def _import_graph():
    "Module -> the package modules it imports anywhere in its text (top level or inside a function)."
    import ast
    graph = {}
    for p in sorted((ROOT / "aunce").glob("*.py")):
        if p.stem.startswith("_"): continue
        deps = set()
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level == 1: deps |= {mod.split(".")[0]} if mod else {a.name for a in node.names}
                elif mod.startswith("aunce."): deps.add(mod.split(".")[1])
                elif mod == "aunce": deps |= {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[1] for a in node.names if a.name.startswith("aunce.")}
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("aunce."):
                deps.add(node.value.split(".")[1].split(":")[0])   # importlib.import_module("aunce.x") and the like
        graph[p.stem] = {d for d in deps if d != p.stem and (ROOT / "aunce" / f"{d}.py").exists()}
    return graph

def test_no_import_circle():
    graph, state, path = _import_graph(), {}, []
    def visit(m):
        state[m] = "open"; path.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == "open": raise AssertionError("import circle: " + " -> ".join(path[path.index(d):] + [d]))
            if d not in state: visit(d)
        state[m] = "done"; path.pop()
    for m in graph:
        if m not in state: visit(m)
    assert "cli" in graph and not any("cli" in deps for deps in graph.values())   # nothing imports the commands

def test_no_module_above_700_lines():
    big = {p.name: n for p in (ROOT / "aunce").glob("*.py") if p.name != "_modidx.py"
           and (n := len(p.read_text().splitlines())) > 700}
    assert not big, big
