"""`aunce-data check` end to end (a subprocess, as a user runs it) on tiny fixtures in the real on-disk layouts:
the happy path of every dataset and layout, and each kind of bad input, which must exit non-zero and name the
file and line. Also: unknown labels (BP4D's 9, Aff-Wild2's -1) stay -1, and SynthAU as aunce-synth writes it."""
import shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from aunce.data import write_fixture, load_frames, AUDataset, DatasetError
from aunce.aus import dataset_aus

SCRIPT = Path(sys.executable).parent / "aunce-data"
CASES = [("bp4d", "raw"), ("bp4d", "list"), ("disfa", "raw"), ("disfa", "list"), ("gft", "list"),
         ("affwild2", "abaw"), ("affwild2", "list"), ("synth", "list")]


def run_check(dataset, root, *extra):
    cmd = ([str(SCRIPT)] if SCRIPT.exists() else
           [sys.executable, "-c", "import sys; from aunce.data import data_cli; sys.exit(data_cli())"])
    r = subprocess.run(cmd + ["check", "--dataset", dataset, "--root", str(root), *extra],
                       capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    "One pristine fixture per (dataset, layout); tests that break one work on a copy."
    base = tmp_path_factory.mktemp("fixtures")
    return {c: write_fixture(c[0], base / f"{c[0]}_{c[1]}", c[1]) for c in CASES}


def copy(fixtures, case, tmp_path):
    return Path(shutil.copytree(fixtures[case], tmp_path / f"{case[0]}_{case[1]}"))


@pytest.mark.parametrize("dataset,layout", CASES)
def test_check_happy_path(fixtures, dataset, layout):
    rc, out = run_check(dataset, fixtures[(dataset, layout)])
    assert rc == 0, out
    assert f"({layout} layout)" in out and "OK: no errors found" in out
    for what in ("frames:", "subjects:", "folds:", "occurrence per AU", "images opened and verified"):
        assert what in out, (what, out)
    for a in (dataset_aus(dataset) if dataset != "synth" else [1, 2, 4, 6, 12]):
        assert f"AU{a} " in out
    if dataset in ("bp4d", "disfa", "synth"):
        assert "train fold3 %" in out


def test_check_missing_image(fixtures, tmp_path):
    root = copy(fixtures, ("bp4d", "raw"), tmp_path)
    occ = pd.read_csv(root / "AUCoding/AU_OCC/M011_T1.csv")
    victim = next(p for p in (root / "M011/T1").iterdir() if int(p.stem) == occ["0"][2])
    victim.unlink()                                   # the frame on line 4 of the label file
    rc, out = run_check("bp4d", root)
    assert rc == 1, out
    assert "M011_T1.csv, line 4: image for frame" in out and "not found" in out
    with pytest.raises(DatasetError, match=r"M011_T1.csv, line 4"): load_frames("bp4d", root, fold=1, split="train")


def test_check_missing_image_list(fixtures, tmp_path):
    root = copy(fixtures, ("disfa", "list"), tmp_path)
    first = (root / "list/DISFA_test_img_path_fold1.txt").read_text().splitlines()[2]
    (root / "img" / first).unlink()
    rc, out = run_check("disfa", root, "--quick")
    assert rc == 1 and f"DISFA_test_img_path_fold1.txt, line 3: image {first} not found" in out, out


def test_check_unreadable_image(fixtures, tmp_path):
    root = copy(fixtures, ("disfa", "raw"), tmp_path)
    (root / "SN013/3.png").write_bytes(b"\x89PNG broken")                  # SN013 images are 1-based
    rc, out = run_check("disfa", root)
    assert rc == 1, out
    assert "SN013_au1.txt, line 3: unreadable image" in out and "3.png" in out
    rc, out = run_check("disfa", root, "--quick")                        # --quick does not open images
    assert rc == 0 and "existence checked only" in out, out


def test_check_label_rows_differ_from_image_list(fixtures, tmp_path):
    root = copy(fixtures, ("gft", "list"), tmp_path)
    f = root / "list/GFT_test_label.txt"
    f.write_text("".join(f.read_text().splitlines(keepends=True)[:-1]))  # one label row short
    rc, out = run_check("gft", root)
    assert rc == 1, out
    assert "GFT_test_label.txt, line 8: 7 label rows but" in out and "GFT_test_img_path.txt lists 8 images" in out


def test_check_disfa_au_files_differ(fixtures, tmp_path):
    root = copy(fixtures, ("disfa", "raw"), tmp_path)
    f = root / "ActionUnit_Labels/SN003/SN003_au25.txt"
    f.write_text(f.read_text() + "5,0\n")
    rc, out = run_check("disfa", root)
    assert rc == 1 and "SN003_au25.txt: 5 rows but SN003_au1.txt has 4" in out, out


@pytest.mark.parametrize("case,edit,expect", [
    (("bp4d", "raw"), "bp4d_5", "F015_T1.csv, line 3: AU6 value '5' is outside the allowed set {0, 1, 9}"),
    (("disfa", "raw"), "disfa_6", "SN029_au12.txt, line 2: intensity '6' is outside the allowed set 0..5"),
    (("affwild2", "abaw"), "abaw_2", "video7.txt, line 3: AU4 value '2' is outside the allowed set {0, 1, -1}"),
    (("synth", "list"), "list_0.5", "SYNTH_train_label_fold2.txt, line 2: AU2 label '0.5' is outside the allowed set"),
])
def test_check_label_value_outside_allowed_set(fixtures, tmp_path, case, edit, expect):
    root = copy(fixtures, case, tmp_path)
    if edit == "bp4d_5":
        f = root / "AUCoding/AU_OCC/F015_T1.csv"; t = pd.read_csv(f); t.loc[1, "6"] = 5; t.to_csv(f, index=False)
    elif edit == "disfa_6":
        f = root / "ActionUnit_Labels/SN029/SN029_au12.txt"; t = f.read_text().splitlines(); t[1] = "2,6"
        f.write_text("\n".join(t) + "\n")
    elif edit == "abaw_2":
        f = root / "AU_Detection_Challenge/Validation_Set/video7.txt"; t = f.read_text().splitlines()
        v = t[2].split(","); v[2] = "2"; t[2] = ",".join(v); f.write_text("\n".join(t) + "\n")
    else:
        f = root / "list/SYNTH_train_label_fold2.txt"; t = f.read_text().splitlines()
        v = t[1].split(); v[1] = "0.5"; t[1] = " ".join(v); f.write_text("\n".join(t) + "\n")
    rc, out = run_check(case[0], root)
    assert rc == 1 and expect in out, out


def test_check_subject_in_two_folds(fixtures, tmp_path):
    root = copy(fixtures, ("bp4d", "list"), tmp_path)
    # fold 2 tests on part 2; add a frame of F007 (part 3, fold 1's test subject) to its test list
    with open(root / "list/BP4D_test_img_path_fold2.txt", "a") as f: f.write("F007/T1/1.jpg\n")
    with open(root / "list/BP4D_test_label_fold2.txt", "a") as f: f.write(" ".join(["0"] * 12) + "\n")
    rc, out = run_check("bp4d", root)
    assert rc == 1, out
    assert "BP4D_test_img_path_fold2.txt, line 9: subject F007 is in the test sets of fold1" in out
    assert "subject F007 is in the test list and in the train list" in out


def test_check_reports_every_error(fixtures, tmp_path):
    root = copy(fixtures, ("bp4d", "raw"), tmp_path)
    for s in ("F001/T2", "M007/T1"): next((root / s).iterdir()).unlink()
    (root / "M011/T1" / sorted(p.name for p in (root / "M011/T1").iterdir())[1]).write_bytes(b"junk")
    rc, out = run_check("bp4d", root)
    assert rc == 1 and "FAILED: 3 errors" in out and "F001_T2.csv, line" in out and "M007_T1.csv, line" in out, out
    assert "M011_T1.csv, line 3: unreadable image" in out


def test_check_no_dataset(tmp_path):
    rc, out = run_check("gft", tmp_path)
    assert rc == 1 and "no gft dataset layout found" in out


def test_unknown_labels_stay_minus_one(fixtures):
    # BP4D raw: every 9 of a kept AU column is -1, every 0/1 is itself
    fr = load_frames("bp4d", fixtures[("bp4d", "raw")], split="all")
    aus, nines = [str(a) for a in dataset_aus("bp4d")], 0
    for f in sorted((fixtures[("bp4d", "raw")] / "AUCoding/AU_OCC").glob("*.csv")):
        t = pd.read_csv(f); raw = t[aus].to_numpy(); nines += (raw == 9).sum()
        sel = np.array(fr.videos) == f.stem.replace("_", "/")
        np.testing.assert_array_equal(fr.labels[sel], np.where(raw == 9, -1, raw))
    assert nines > 0 and (fr.labels == -1).sum() == nines
    # BP4D list: 9 -> -1
    fl = load_frames("bp4d", fixtures[("bp4d", "list")], split="all")
    raw = np.loadtxt(fixtures[("bp4d", "list")] / "list/BP4D_train_label_fold1.txt", dtype=int)
    assert (raw == 9).any() and (fl.labels == -1).sum() > 0 and not (fl.labels == 9).any()
    # Aff-Wild2 ABAW: -1 kept, including a frame with every AU unknown; never turned into 0
    fa = load_frames("affwild2", fixtures[("affwild2", "abaw")], split="train")
    raw = pd.read_csv(fixtures[("affwild2", "abaw")] / "AU_Detection_Challenge/Train_Set/video1.txt").to_numpy()
    np.testing.assert_array_equal(fa.labels[np.array(fa.videos) == "video1"], raw)
    assert (raw == -1).all(1).any()
    # and the dataset hands -1 to the loss
    assert (AUDataset(fa, size=32)[int(np.flatnonzero((fa.labels == -1).any(1))[0])]["labels"] == -1).any()


def test_synthau_from_the_generator(tmp_path):
    synth = pytest.importorskip("aunce.synth")
    root = synth.make_synthau(tmp_path / "synth", subjects=6, frames=4, size=64, videos=2, seed=0)
    for f in (1, 2, 3):
        tr, te = load_frames("synth", root, fold=f, split="train"), load_frames("synth", root, fold=f, split="test")
        assert not set(tr.subjects) & set(te.subjects) and tr.landmarks is not None and te.clean_labels is not None
    item = AUDataset(te)[0]
    assert item["image"].shape == (3, 256, 256)
    rc, out = run_check("synth", root)
    assert rc == 0, out
