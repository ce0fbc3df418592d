"""`aunce-data prepare` end to end on raw BP4D and DISFA roots made from a real photo (scikit-image's astronaut) moved
along a known path on frames of the real size, with frames that hold no face: the landmarks it finds against the
photo's own landmarks moved along that path, every frame prepared or named, the prepared root read by check, load_frames
and the training notebook; killed with SIGKILL and resumed to the same bytes; bad input named. Needs the predict extra."""
import errno, filecmp, json, os, shutil, signal, subprocess, sys, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("mediapipe"); pytest.importorskip("dlib"); pytest.importorskip("av"); pytest.importorskip("skimage")

from aunce.cli import data_cli
from aunce.data import AUDataset, load_frames
from aunce.faces import DlibLandmarks, MediaPipeDetector
from aunce.media import astronaut
from aunce.prepare import PrepareError, prepare, write_moving_face_root
import aunce.prepare as prep_mod

ROOT = Path(__file__).resolve().parents[1]
XS, YS = [f"x_{i}" for i in range(68)], [f"y_{i}" for i in range(68)]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0"}


@pytest.fixture(scope="module")
def photo_landmarks():
    "The astronaut photo's own 68 landmarks, fitted by the package's detector and landmark model."
    det, lmk = MediaPipeDetector(), DlibLandmarks()
    ph = astronaut()
    lm = lmk(ph, det(ph)[0]); det.close()
    return lm


def landmark_rms(prepared: Path, truth: dict, ref: np.ndarray) -> dict:
    "{(video, frame): RMS px} of the prepared landmarks against the photo's landmarks moved along the known path."
    out = {}
    for v, Ms in truth.items():
        df = pd.read_csv(prepared / "landmarks" / f"{v}.csv")
        for t, M in enumerate(Ms):
            row = df[df.frame == t + 1]
            assert len(row) == 1, (v, t)
            if M is None: assert row.success.iloc[0] == 0; continue
            assert row.success.iloc[0] == 1, (v, t)
            got = np.stack([row[XS].to_numpy()[0], row[YS].to_numpy()[0]], -1)
            out[v, t + 1] = float(np.sqrt(((got - (ref @ M[:, :2].T + M[:, 2])) ** 2).sum(1).mean()))
    return out


def check_every_frame_named(prepared: Path, n_labelled: int, faceless: int):
    fr = pd.read_csv(prepared / "frames.csv", dtype=str, keep_default_na=False)
    rep = pd.read_csv(prepared / "prepare_report.csv", dtype=str, keep_default_na=False)
    assert len(fr) == n_labelled
    bad = fr[fr.status != "ok"]
    assert (bad.status == "no_face").sum() == faceless
    dropped = rep[rep.status == "dropped"]
    assert sorted(zip(bad.video, bad.frame)) == sorted(zip(dropped.video, dropped.frame))
    assert (fr[fr.status == "ok"].image.map(lambda p: (prepared / p).is_file())).all()
    return fr


def tree(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- BP4D and DISFA from a real face

@pytest.fixture(scope="module")
def bp4d(tmp_path_factory):
    d = tmp_path_factory.mktemp("bp4d")
    truth = write_moving_face_root("bp4d", d / "raw", subjects_per_part=2, frames=8, faceless=(3,))
    return d, truth


def test_bp4d_prepare_landmarks_check_and_train(bp4d, photo_landmarks, capsys):
    d, truth = bp4d
    raw, prep = d / "raw", d / "prep"
    assert data_cli(["prepare", "--dataset", "bp4d", "--root", str(raw), "--out", str(prep), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "42 of 48 labelled frames of 6 videos prepared" in out and "no face found: 6" in out, out
    rms = landmark_rms(prep, truth, photo_landmarks)
    print(f"\nBP4D 1040x1392: landmark RMS against the moved photo's landmarks: median {np.median(list(rms.values())):.2f} px, "
          f"worst {max(rms.values()):.2f} px over {len(rms)} frames")
    assert max(rms.values()) < 3.0
    check_every_frame_named(prep, 48, 6)
    # the prepared root: check is OK, load_frames keeps subject/video/frame and the labels (9 -> -1) of the raw root
    assert data_cli(["check", "--dataset", "bp4d", "--root", str(prep)]) == 0
    assert "faces: aligned at 256 px" in capsys.readouterr().out
    for split in ("train", "test"):
        a, b = load_frames("bp4d", raw, split=split), load_frames("bp4d", prep, split=split)
        keep = [i for i, fr in enumerate(a.frames) if fr != 4]          # frame 4 (0-based 3) holds no face
        assert b.frames == [a.frames[i] for i in keep] and b.videos == [a.videos[i] for i in keep]
        np.testing.assert_array_equal(b.labels, a.labels[keep])
        assert b.aligned_size == 256 and b.left_out == {"no face found": len(a) - len(b)}
    assert (load_frames("bp4d", prep, split="train").labels == -1).any()       # unknown stays unknown
    # the raw root plus the prepared landmarks is a root that load_frames aligns on the fly (success-0 frames left out)
    shutil.copytree(prep / "landmarks", raw / "landmarks")
    try:
        lr = load_frames("bp4d", raw, split="train"); lp = load_frames("bp4d", prep, split="train")
        assert lr.landmarks is not None and lr.frames == lp.frames and sum(lr.left_out.values()) == 4
        x_fly = np.asarray(AUDataset(lr, size=256).load_image(0), np.float64)
        x_prep = np.asarray(AUDataset(lp, size=256).load_image(0), np.float64)
        assert np.abs(x_fly - x_prep).mean() < 2.0      # the same alignment; only the JPEG round trip differs
    finally: shutil.rmtree(raw / "landmarks")
    # nbs/train.ipynb trains on the prepared root as it is
    nb = d / "train.ipynb"
    r = subprocess.run([str(Path(sys.executable).parent / "papermill"), str(ROOT / "nbs" / "train.ipynb"), str(nb),
                        "-p", "dataset", "bp4d", "-p", "data_root", str(prep), "-p", "epochs", "1", "-p", "batch_size", "8",
                        "-p", "probe_epochs", "2", "-p", "out_dir", str(d / "run")],
                       capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((d / "run" / "results.json").read_text()) if (d / "run" / "results.json").exists() else None
    text = nb.read_text()
    assert "leaves out" in text and "labelled frames without a prepared face" in text, "the run does not say what it left out"
    assert res is not None and res["aunce"] and res["table"], "the notebook wrote no results"


@pytest.mark.parametrize("video", [False, True])
def test_disfa_frames_or_left_video(tmp_path, photo_landmarks, video, capsys):
    truth = write_moving_face_root("disfa", tmp_path / "raw", frames=6, faceless=(2,), disfa_video=video,
                                   width=720, height=576)
    prep = tmp_path / "prep"
    rc = data_cli(["check", "--dataset", "disfa", "--root", str(tmp_path / "raw")])
    out = capsys.readouterr().out
    assert rc == 0, out
    if video: assert "left-camera videos" in out
    s = prepare("disfa", tmp_path / "raw", prep, progress=False)
    assert s.counts == {"no_face": 3, "ok": 15}, s.counts
    rms = landmark_rms(prep, truth, photo_landmarks)
    assert max(rms.values()) < 3.0, rms
    check_every_frame_named(prep, 18, 3)
    assert data_cli(["check", "--dataset", "disfa", "--root", str(prep)]) == 0
    te = load_frames("disfa", prep, split="test")
    assert te.aligned_size == 256 and len(te) == 5 and te.subjects == ["SN003"] * 5
    if video:   # training on the raw videos is refused with the command that prepares them
        from aunce.config import TrainConfig, prepare_data
        with pytest.raises(ValueError, match="aunce-data prepare --dataset disfa"):
            prepare_data(TrainConfig(dataset="disfa", data_root=str(tmp_path / "raw")))


# ---------------------------------------------------------------- resumable: SIGKILL at any moment, same bytes

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("small")
    write_moving_face_root("bp4d", d / "raw", frames=10, faceless=(4,), videos=2, width=640, height=720, scale=1.0)
    ref = d / "ref"
    s = prepare("bp4d", d / "raw", ref, workers=2, progress=False)       # two processes: the same bytes as one
    assert s.counts["ok"] == 54 and s.videos == 6
    return d, tree(ref)


def _cmd(raw, out, workers=1):
    return [sys.executable, "-c", "import sys; from aunce.cli import data_cli; sys.exit(data_cli(sys.argv[1:]))",
            "prepare", "--dataset", "bp4d", "--root", str(raw), "--out", str(out), "--workers", str(workers), "--no-progress"]


@pytest.mark.parametrize("when", ["manifest", "faces", "parts"])
def test_sigkill_and_resume_gives_the_same_bytes(small, tmp_path, when):
    d, ref = small
    out = tmp_path / "out"
    p = subprocess.Popen(_cmd(d / "raw", out), env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    def reached():
        if when == "manifest": return (out / "prepared.json").exists()
        if when == "faces": return len(list((out / "faces").rglob("*.jpg"))) >= 14 if (out / "faces").exists() else False
        return len(list((out / ".prepare").glob("*.json"))) >= 2 if (out / ".prepare").exists() else False
    while not reached() and p.poll() is None and time.time() - t0 < 120: time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode != 0, "prepare finished before it could be killed: the test did not test a resume"
    assert not json.loads((out / "prepared.json").read_text())["complete"]
    r = subprocess.run(_cmd(d / "raw", out), env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = tree(out)
    assert sorted(got) == sorted(ref), set(got) ^ set(ref)
    assert [k for k in ref if got[k] != ref[k]] == []


def test_disk_full_keeps_what_was_prepared_and_resumes(small, tmp_path, monkeypatch):
    d, ref = small
    out, real, n = tmp_path / "out", os.replace, [0]
    def full(src, dst):
        n[0] += 1
        if n[0] > 30: raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst)
    monkeypatch.setattr(prep_mod.os, "replace", full)
    with pytest.raises(PrepareError, match=r"cannot write .*: No space left on device"):
        prepare("bp4d", d / "raw", out, progress=False)
    monkeypatch.setattr(prep_mod.os, "replace", real)
    done = len(list((out / ".prepare").glob("*.json")))
    assert done >= 1 and not list(out.rglob(".*.tmp"))
    s = prepare("bp4d", d / "raw", out, progress=False)
    assert s.processed == 60 - 10 * done
    got = tree(out)
    assert sorted(got) == sorted(ref) and [k for k in ref if got[k] != ref[k]] == []


# ---------------------------------------------------------------- bad input

def test_missing_unreadable_and_unknown_frames_are_named(small, tmp_path, capsys):
    d, _ = small
    raw = tmp_path / "raw"; shutil.copytree(d / "raw", raw)
    (raw / "F001" / "T1" / "0002.jpg").unlink()                                    # missing
    (raw / "F001" / "T2" / "0003.jpg").write_bytes((raw / "F001" / "T2" / "0003.jpg").read_bytes()[:2000])   # truncated
    occ = raw / "AUCoding" / "AU_OCC" / "M011_T1.csv"                               # rows for frames that do not exist
    occ.write_text(occ.read_text() + "".join(f"{f}," + ",".join(["0"] * 12) + "\n" for f in (500, 501)))
    prep = tmp_path / "prep"
    assert data_cli(["prepare", "--dataset", "bp4d", "--root", str(raw), "--out", str(prep), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "no image in the raw root: 3" in out and "the raw image could not be read: 1" in out, out
    rep = pd.read_csv(prep / "prepare_report.csv", dtype=str)
    got = set(zip(rep.video, rep.frame, rep.reason))
    assert {("F001/T1", "2", "missing_image"), ("F001/T2", "3", "unreadable"), ("M011/T1", "500", "missing_image"),
            ("M011/T1", "501", "missing_image")} <= got
    assert rep[rep.reason == "unreadable"].detail.str.contains("0003.jpg").all()
    assert data_cli(["check", "--dataset", "bp4d", "--root", str(prep)]) == 0
    assert "no image in the raw root: 3" in capsys.readouterr().out


def test_bad_labels_refuse_before_any_work(small, tmp_path, capsys):
    d, _ = small
    raw = tmp_path / "raw"; shutil.copytree(d / "raw", raw)
    occ = raw / "AUCoding" / "AU_OCC" / "F001_T1.csv"
    lines = occ.read_text().splitlines(); lines[3] = lines[3][:-1] + "7"; occ.write_text("\n".join(lines) + "\n")
    assert data_cli(["prepare", "--dataset", "bp4d", "--root", str(raw), "--out", str(tmp_path / "p"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"{occ}, line 4: AU24 value '7' is outside the allowed set" in err, err
    assert not (tmp_path / "p").exists()


def test_out_of_other_settings_or_not_a_prepared_root(small, tmp_path, capsys):
    d, _ = small
    out = tmp_path / "out"
    shutil.copytree(d / "ref", out)
    before = tree(out)
    assert data_cli(["prepare", "--dataset", "bp4d", "--root", str(d / "raw"), "--out", str(out), "--size", "224",
                     "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "was prepared with size=256; this run asks for size=224" in err, err
    assert tree(out) == before                                  # nothing lost from what was prepared before
    assert data_cli(["prepare", "--dataset", "bp4d", "--root", str(d / "raw"), "--out", str(out), "--no-progress"]) == 0
    assert "already prepared" in capsys.readouterr().out
    (tmp_path / "mine").mkdir(); (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert data_cli(["prepare", "--dataset", "bp4d", "--root", str(d / "raw"), "--out", str(tmp_path / "mine"),
                     "--no-progress"]) == 1
    assert "is not empty and is not a prepared root" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert data_cli(["prepare", "--dataset", "bp4d", "--root", str(d / "raw"), "--out", str(tmp_path / "file"),
                     "--no-progress"]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err
    assert data_cli(["prepare", "--dataset", "bp4d", "--root", str(out), "--out", str(tmp_path / "x"), "--no-progress"]) == 1
    assert "is a prepared root already" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        data_cli(["prepare", "--dataset", "bp4d", "--root", str(out), "--out", str(tmp_path / "x"), "--workers", "0"])
    assert e.value.code == 2
    assert "--workers 0" in capsys.readouterr().err
