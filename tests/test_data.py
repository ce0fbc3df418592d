"""`aunce-data check` end to end (a subprocess, as a user runs it) on tiny fixtures in the real on-disk layouts:
the happy path of every dataset and layout, and each kind of bad input, which must exit non-zero and name the
file and line. Also: unknown labels (BP4D's 9, Aff-Wild2's -1) stay -1, and SynthAU as aunce-synth writes it."""
import os, shutil, subprocess, sys
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
           [sys.executable, "-c", "import sys; from aunce.cli import data_cli; sys.exit(data_cli())"])
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


# ---- issue 12: bad input never passes silently (check_dataset in process: fast; the CLI where it matters)
from aunce.data import check_dataset
from aunce.cli import data_cli


def errs(rep):
    return [str(e) for e in rep.errors]


def one_error(rep, *parts):
    """At least one error, and every error contains every part (file name, 'line N', what is wrong); a list layout
    with folds names the same bad image once per list file that holds it."""
    e = errs(rep)
    assert e and all(p in x for x in e for p in parts), e
    return e[0]


def truncate(p: Path):
    b = p.read_bytes(); p.write_bytes(b[: len(b) // 2])


@pytest.mark.parametrize("case", CASES)
def test_truncated_jpeg_or_png_fails_check(fixtures, tmp_path, case):
    "Image.verify() passes a truncated JPEG; the check decodes fully, in every dataset and layout."
    r = copy(fixtures, case, tmp_path)
    rep = check_dataset(case[0], r, workers=1)
    p = rep.frames.paths[3]; truncate(p)
    rep = check_dataset(case[0], r, workers=1)
    e = one_error(rep, "unreadable image", str(p), "line")
    assert rep.frames.sources[3].rsplit(":", 1)[0] in e


@pytest.mark.parametrize("case", CASES)
def test_quick_notices_broken_symlink(fixtures, tmp_path, case):
    "--quick does not open images, but a dangling symbolic link is not an image (os.listdir would list it)."
    r = copy(fixtures, case, tmp_path)
    p = check_dataset(case[0], r, quick=True).frames.paths[2]
    p.unlink(); p.symlink_to(tmp_path / "nowhere.jpg")
    rep = check_dataset(case[0], r, quick=True)
    one_error(rep, "broken symbolic link", p.name, "line")


def test_bp4d_header_only_label_file(fixtures, tmp_path):
    r = copy(fixtures, ("bp4d", "raw"), tmp_path)
    f = r / "AUCoding/AU_OCC/F001_T2.csv"; f.write_text(f.read_text().splitlines()[0] + "\n")
    one_error(check_dataset("bp4d", r, quick=True), str(f), "line 1", "header but no frame rows")


def test_abaw_header_only_annotation_file(fixtures, tmp_path):
    r = copy(fixtures, ("affwild2", "abaw"), tmp_path)
    f = r / "AU_Detection_Challenge/Train_Set/video1.txt"; f.write_text(f.read_text().splitlines()[0] + "\n")
    one_error(check_dataset("affwild2", r, quick=True), str(f), "line 1", "header but no frame rows")


@pytest.mark.parametrize("case", [c for c in CASES if c[1] == "list"])
def test_empty_list_file(fixtures, tmp_path, case):
    r = copy(fixtures, case, tmp_path)
    f = sorted((r / "list").glob("*_test_img_path*.txt"))[0]
    lab = Path(str(f).replace("_img_path", "_label")); f.write_text(""); lab.write_text("")
    if case[0] == "synth": Path(str(f).replace("_img_path", "_label_clean")).write_text("")
    assert any(str(f) in e and "empty list file" in e for e in errs(check_dataset(case[0], r, quick=True)))


def test_disfa_empty_au_file(fixtures, tmp_path):
    r = copy(fixtures, ("disfa", "raw"), tmp_path)
    f = r / "ActionUnit_Labels/SN002/SN002_au4.txt"; f.write_text("")
    one_error(check_dataset("disfa", r, quick=True), str(f), "empty label file")


def test_disfa_label_file_shorter_than_video(fixtures, tmp_path):
    "Images past the end of the label files are left out, and the note counts them."
    r = copy(fixtures, ("disfa", "raw"), tmp_path)
    before = len(check_dataset("disfa", r, quick=True).frames)
    for f in (r / "ActionUnit_Labels/SN010").glob("*.txt"): f.write_text("".join(f.read_text().splitlines(True)[:-1]))
    rep = check_dataset("disfa", r, quick=True)
    assert rep.ok and len(rep.frames) == before - 1
    assert any("images with no label row" in n and "SN010: 1" in n for n in rep.notes), rep.notes


def test_disfa_subject_dir_broken_symlink(fixtures, tmp_path):
    r = copy(fixtures, ("disfa", "raw"), tmp_path)
    d = r / "ActionUnit_Labels/SN010"; shutil.rmtree(d); d.symlink_to(tmp_path / "gone")
    one_error(check_dataset("disfa", r, quick=True), str(d), "broken symbolic link")


def test_disfa_images_without_labels_are_noted(fixtures, tmp_path):
    r = copy(fixtures, ("disfa", "raw"), tmp_path)
    shutil.copytree(r / "SN002", r / "SN099")
    rep = check_dataset("disfa", r, quick=True)
    assert rep.ok and any("1 image director(ies) without labels" in n and "SN099" in n for n in rep.notes), rep.notes


@pytest.mark.parametrize("case", [("bp4d", "list"), ("disfa", "list"), ("synth", "list")])
def test_fold_table_subject_missing_from_lists_is_noted(fixtures, tmp_path, case):
    r = copy(fixtures, case, tmp_path)
    if case[0] == "synth":   # the fixture's synthau.json has no fold table: give it the one aunce-synth writes
        import json
        meta = json.loads((r / "synthau.json").read_text())
        parts = [["S001", "S002"], ["S003", "S004"], ["S005", "S006", "S007"]]
        meta["folds"] = {str(f): {"train": [s for i, p in enumerate(parts) if i != 3 - f for s in p], "test": parts[3 - f]} for f in (1, 2, 3)}
        (r / "synthau.json").write_text(json.dumps(meta))
        rep = check_dataset("synth", r, quick=True)
        assert rep.ok and sum("are in neither list: S007" in n for n in rep.notes) == 3, rep.notes
    else:
        rep = check_dataset(case[0], r, quick=True)
        n_spec = {"bp4d": 41, "disfa": 27}[case[0]]
        assert rep.ok and sum(f"{n_spec - 6} of the {n_spec} subjects of the fold table" in n for n in rep.notes) == 3, rep.notes


def _drop_subject(r: Path, list_img: str, subject: str) -> None:
    "Remove every line of `subject` from the image list `list_img` and the same lines from its label lists."
    img = r / "list" / list_img
    lines = img.read_text().splitlines(True)
    keep = [i for i, l in enumerate(lines) if not l.startswith(subject + "/")]
    assert len(keep) < len(lines), (subject, list_img)
    for f in [img] + [Path(str(img).replace("_img_path", k)) for k in ("_label", "_label_clean")]:
        if f.exists(): ls = f.read_text().splitlines(True); f.write_text("".join(ls[i] for i in keep))


# A subject missing from one fold's train lists while other lists hold it (or, without folds, while its images are
# under img/) is left out of that fold: a counted note names the subject and the fold, and the check passes
@pytest.mark.parametrize("case,list_img,subject,want", [
    (("bp4d", "list"), "BP4D_train_img_path_fold1.txt", "M007",
     "fold1: 1 subject(s) listed in other folds are in neither list of fold1, so fold1 leaves them out: M007 "
     "(the fold table puts it in fold1 train; listed in fold2 train, fold3 test)"),
    (("disfa", "list"), "DISFA_train_img_path_fold2.txt", "SN010",
     "fold2: 1 subject(s) listed in other folds are in neither list of fold2, so fold2 leaves them out: SN010 "
     "(the fold table puts it in fold2 train; listed in fold1 train, fold3 test)"),
    (("synth", "list"), "SYNTH_train_img_path_fold3.txt", "S004",
     "fold3: 1 subject(s) listed in other folds are in neither list of fold3, so fold3 leaves them out: S004 "
     "(listed in fold1 train, fold2 test)"),
    (("gft", "list"), "GFT_train_img_path.txt", "002B", "1 subject director(ies) under"),
    (("affwild2", "list"), "AffWild2_train_img_path.txt", "video2", "1 subject director(ies) under"),
])
def test_list_subject_missing_from_one_folds_train_list_is_noted(fixtures, tmp_path, case, list_img, subject, want):
    r = copy(fixtures, case, tmp_path)
    _drop_subject(r, list_img, subject)
    rep = check_dataset(case[0], r, quick=True)
    assert rep.ok, errs(rep)
    hit = [n for n in rep.notes if want in n]
    assert len(hit) == 1 and subject in hit[0], rep.notes
    if case[0] in ("gft", "affwild2"): assert f"{r / 'img'} are in no list" in hit[0] and hit[0].endswith(subject)
    else:    # the fold table's count leaves the subject out: its data is present, only this fold drops it
        assert not any("in neither list: " in n and subject in n.split("in neither list: ")[1] for n in rep.notes if "fold table" in n and "leaves them out" not in n)
    rc, out = run_check(case[0], r, "--quick")           # the CLI: exit 0, and the note is printed
    assert rc == 0 and subject in out and (want[:40] in out), out


def test_list_subject_missing_with_the_synthau_fold_table(tmp_path):
    "SynthAU as aunce-synth writes it (synthau.json holds the fold table): the note says which list the table wants."
    from aunce.synth import make_synthau
    r = Path(make_synthau(tmp_path / "s", "bp4d", subjects=6, frames=3, seed=0, size=64, videos=1, workers=1) or tmp_path / "s")
    _drop_subject(r, "SYNTH_train_img_path_fold1.txt", "S002")
    rep = check_dataset("synth", r, quick=True)
    assert rep.ok and any("fold1: 1 subject(s) listed in other folds" in n and
                          "S002 (the fold table puts it in fold1 train; listed in fold2 train, fold3 test)" in n for n in rep.notes), rep.notes


def test_bp4d_duplicate_frame_rows(fixtures, tmp_path):
    "Identical duplicate rows: kept once, counted in a note. Disagreeing rows: an error naming the file and both lines."
    r = copy(fixtures, ("bp4d", "raw"), tmp_path)
    n0 = len(check_dataset("bp4d", r, quick=True).frames)
    f = r / "AUCoding/AU_OCC/F001_T1.csv"; lines = f.read_text().splitlines(True)
    f.write_text("".join(lines + [lines[2]]))
    rep = check_dataset("bp4d", r, quick=True)
    assert rep.ok and len(rep.frames) == n0 and any("listed twice with the same labels" in n and "F001_T1.csv: 1" in n for n in rep.notes)
    row = lines[2].rstrip("\r\n").split(","); i = row.index("1") if "1" in row[1:] else 1
    row[[k for k, v in enumerate(row) if k > 0 and v in ("0", "1")][0]] = "1" if row[[k for k, v in enumerate(row) if k > 0 and v in ("0", "1")][0]] == "0" else "0"
    f.write_text("".join(lines + [",".join(row) + "\n"]))
    one_error(check_dataset("bp4d", r, quick=True), str(f), f"line {len(lines) + 1}", "line 3 has", "listed twice with different labels")


def test_disfa_duplicate_frame_rows(fixtures, tmp_path):
    r = copy(fixtures, ("disfa", "raw"), tmp_path)
    d = r / "ActionUnit_Labels/SN002"
    for f in d.glob("*.txt"): f.write_text(f.read_text() + f.read_text().splitlines(True)[0])
    rep = check_dataset("disfa", r, quick=True)
    assert rep.ok and len(rep.frames) == 24 and any("listed twice with the same intensity" in n for n in rep.notes), rep.notes
    f = d / "SN002_au1.txt"; fr, v = f.read_text().splitlines()[0].split(",")
    f.write_text(f.read_text() + f"{fr},{(int(v) + 1) % 6}\n")
    one_error(check_dataset("disfa", r, quick=True), str(f), "line 6", "on line 1", "listed twice")


@pytest.mark.parametrize("case", [c for c in CASES if c[1] == "list"])
def test_list_duplicate_paths(fixtures, tmp_path, case):
    r = copy(fixtures, case, tmp_path)
    n0 = len(check_dataset(case[0], r, quick=True).frames)
    img = sorted((r / "list").glob("*_train_img_path*.txt"))[0]
    labs = [Path(str(img).replace("_img_path", k)) for k in ("_label", "_label_clean")]
    labs = [l for l in labs if l.exists()]
    img.write_text(img.read_text() + img.read_text().splitlines(True)[0])
    for l in labs: l.write_text(l.read_text() + l.read_text().splitlines(True)[0])
    rep = check_dataset(case[0], r, quick=True)
    assert rep.ok and len(rep.frames) == n0 and any("listed twice with the same labels, kept once" in n for n in rep.notes), errs(rep)
    n = len(img.read_text().splitlines())
    row = labs[0].read_text().splitlines()[0].split(); row[0] = "1" if row[0] != "1" else "0"
    labs[0].write_text("".join(labs[0].read_text().splitlines(True)[:-1]) + " ".join(row) + "\n")
    e = errs(check_dataset(case[0], r, quick=True))
    assert any(str(img) in x and f"line {n}" in x and "line 1 of" in x and "different labels" in x for x in e), e


@pytest.mark.parametrize("case", [c for c in CASES if c[1] == "list"])
@pytest.mark.parametrize("bad", ["abs", "up"])
def test_list_paths_must_stay_under_the_image_root(fixtures, tmp_path, case, bad):
    r = copy(fixtures, case, tmp_path)
    img = sorted((r / "list").glob("*_train_img_path*.txt"))[0]
    lines = img.read_text().splitlines()
    outside = tmp_path / "outside" / lines[1]; outside.parent.mkdir(parents=True); shutil.copy(r / "img" / lines[1], outside)
    lines[1] = str(outside) if bad == "abs" else "../../outside/" + lines[1]
    img.write_text("\n".join(lines) + "\n")
    rep = check_dataset(case[0], r, quick=True)
    assert any(str(img) in e and "line 2" in e and "leaves the image root" in e for e in errs(rep)), errs(rep)
    assert not {"/", ".."} & set(rep.frames.subjects if rep.frames else [])


def test_data_cli_os_error_is_one_line(tmp_path, capsys):
    d = tmp_path / "locked"; write_fixture("disfa", d, "raw")
    (d / "ActionUnit_Labels").chmod(0)
    try:
        import os
        if os.access(d / "ActionUnit_Labels", os.R_OK): pytest.skip("running as root: permissions are not enforced")
        rc = data_cli(["check", "--dataset", "disfa", "--root", str(d)])
    finally: (d / "ActionUnit_Labels").chmod(0o755)
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "aunce-data: error" in err and "Traceback" not in err, err


def test_synth_cli_out_under_a_file(tmp_path):
    f = tmp_path / "file"; f.write_text("x")
    r = subprocess.run([sys.executable, "-c", "from aunce.cli import synth_cli; synth_cli()", "--out", str(f / "out"),
                        "--subjects", "3", "--frames", "2", "--size", "64"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Not a directory" in r.stderr and str(f) in r.stderr


def test_data_cli_root_under_a_file(tmp_path, capsys):
    f = tmp_path / "file"; f.write_text("x")
    rc = data_cli(["check", "--dataset", "gft", "--root", str(f / "sub")])
    out = capsys.readouterr()
    assert rc == 1 and "Traceback" not in out.err and "dataset root directory not found" in out.out


# ---- benign variants: still accepted, with the same counts
def crlf_bom_blank(p: Path):
    "CRLF line endings, a UTF-8 BOM and trailing blank lines."
    t = p.read_text(encoding="utf-8")
    p.write_bytes(b"\xef\xbb\xbf" + (t.rstrip("\n").replace("\n", "\r\n") + "\r\n\r\n\r\n").encode())


def counts(rep):
    fr = rep.frames
    return len(fr), len(set(fr.subjects)), len(set(fr.videos)), fr.labels.sum(0).tolist()


@pytest.mark.parametrize("case", CASES)
def test_benign_text_variants(fixtures, tmp_path, case):
    r = copy(fixtures, case, tmp_path)
    want = counts(check_dataset(case[0], r, quick=True))
    for p in list(r.rglob("*.csv")) + list(r.rglob("*.txt")): crlf_bom_blank(p)
    rep = check_dataset(case[0], r, workers=1)
    assert rep.ok and counts(rep) == want, errs(rep)


@pytest.mark.parametrize("case", [("bp4d", "raw"), ("affwild2", "abaw"), ("gft", "list"), ("bp4d", "list")])
def test_uppercase_extensions(fixtures, tmp_path, case):
    r = copy(fixtures, case, tmp_path)
    want = counts(check_dataset(case[0], r, quick=True))
    for p in list(r.rglob("*.jpg")): p.rename(p.with_suffix(".JPG"))
    for f in (r / "list").glob("*_img_path*.txt") if case[1] == "list" else []: f.write_text(f.read_text().replace(".jpg", ".JPG"))
    rep = check_dataset(case[0], r, workers=1)
    assert rep.ok and counts(rep) == want, errs(rep)


@pytest.mark.parametrize("case", [("gft", "list"), ("affwild2", "list")])
def test_paths_with_spaces_and_non_ascii(fixtures, tmp_path, case):
    r = copy(fixtures, case, tmp_path)
    want = counts(check_dataset(case[0], r, quick=True))
    old = sorted(d.name for d in (r / "img").iterdir())[0]; new = f"sujet é {old}"
    (r / "img" / old).rename(r / "img" / new)
    (r / "img" / new / sorted(os.listdir(r / "img" / new))[0]).rename(r / "img" / new / "frame 1 ü.jpg")
    renamed = f"{new}/frame 1 ü.jpg"
    for f in (r / "list").glob("*_img_path*.txt"):   # the subject's lines, and the renamed frame's, point at the new names
        lines = [new + l[len(old):] if l.startswith(old + "/") else l for l in f.read_text().splitlines()]
        lines = [l if (r / "img" / l).exists() or not l.startswith(new + "/") else renamed for l in lines]
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rep = check_dataset(case[0], r, workers=1)
    assert rep.ok and counts(rep) == want, errs(rep)
    assert any(p.name == "frame 1 ü.jpg" for p in rep.frames.paths) and new in rep.frames.subjects


def test_data_cli_name_too_long_is_one_line(capsys):
    "An OS error about --root (here ENAMETOOLONG, which Path.is_dir() raises) is one line on stderr and exit 2."
    rc = data_cli(["check", "--dataset", "gft", "--root", "/tmp/" + "x" * 5000])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "aunce-data: error" in err and "too long" in err, err
