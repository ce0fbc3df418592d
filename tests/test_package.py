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
