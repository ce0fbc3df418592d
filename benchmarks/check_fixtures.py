"""Run `aunce-data check` (in process) over every test fixture and a small SynthAU set and print one line of counts
each, so that a change to the readers can be shown to accept valid data with unchanged counts.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/check_fixtures.py [OUT_DIR]"""
import sys, tempfile
from pathlib import Path
from aunce.data import check_dataset, write_fixture
from aunce.synth import make_synthau

CASES = [("bp4d", "raw"), ("bp4d", "list"), ("disfa", "raw"), ("disfa", "list"), ("gft", "list"),
         ("affwild2", "abaw"), ("affwild2", "list"), ("synth", "list")]

def main(base: Path) -> int:
    bad = 0
    roots = {c: write_fixture(c[0], base / f"{c[0]}_{c[1]}", c[1], landmarks=True) for c in CASES}
    roots[("synth", "aunce-synth 6x20")] = make_synthau(base / "synthau", "bp4d", subjects=6, frames=20, videos=2, seed=0, size=64)
    for (ds, lay), root in roots.items():
        rep = check_dataset(ds, root, workers=1)
        fr = rep.frames
        print(f"{ds:9s} {lay:17s} ok={rep.ok} frames={len(fr) if fr else 0} subjects={len(set(fr.subjects)) if fr else 0} "
              f"videos={len(set(fr.videos)) if fr else 0} verified={rep.verified} errors={len(rep.errors)} notes={len(rep.notes)}")
        bad += not rep.ok
    return bad

if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="aunce-check-"))
    sys.exit(main(out))
