"""aunce-predict on videos: faces tracked across frames with stable `face_id`s, and videos that are not what they say
(frame size changing mid-stream, truncated, a frame duration of 0 in the container). The test videos are real photos
(scikit-image's astronaut, her head pasted several times) moving along known paths, encoded with PyAV."""
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import struct

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("mediapipe"); pytest.importorskip("dlib"); pytest.importorskip("av")

from aunce.predict import Predictor, make_demo_checkpoint, astronaut, write_video, PREDICTOR_FILE
from aunce.cli import predict_cli
from aunce.media import compose_frame, place
from aunce.track import DETECT_EVERY

torch.set_num_threads(1)
HEAD = (220, 240)                      # the astronaut's head and shoulders: astronaut()[10:250, 120:340]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("track")
    make_demo_checkpoint(d / "run" / PREDICTOR_FILE)
    return d


@pytest.fixture(scope="module")
def head():
    return astronaut()[10:250, 120:340]


@pytest.fixture(scope="module")
def pred(work):
    p = Predictor(work / "run", batch_size=8)
    yield p
    p.close()


def centre_x(df):
    return ((df.box_x0 + df.box_x1) / 2).to_numpy()


def cli(args, capsys):
    rc = predict_cli([str(a) for a in args] + ["--no-progress"])
    return rc, capsys.readouterr().out


def test_faces_keep_their_ids_while_moving(work, head, pred):
    """Three copies of a real face, each on its own known path for 60 frames (two moving 1.5-2.5 px and up to 1.5
    degrees a frame, one still): each keeps one face_id over all frames, the three ids differ, most rows are tracked."""
    paths = lambda i: [place(100 + 1.5 * i, 180 + 20 * np.sin(i / 9), 0.7, 10 * np.sin(i / 7), HEAD),
                       place(330, 170, 0.7, 0, HEAD),
                       place(560 - 1.5 * i, 190 - 15 * np.sin(i / 11), 0.7, -8 * np.sin(i / 6), HEAD)]
    write_video(work / "three.mp4", [compose_frame(head, paths(i), 640, 360) for i in range(60)])
    df = pred.predict(work / "three.mp4")
    assert len(df) == 180 and (df.groupby("frame").size() == 3).all()
    want = np.array([[M[0, 2] + M[:, :2].dot(np.array(HEAD) / 2)[0] for M in paths(i)] for i in range(60)])  # centres x
    who = np.abs(centre_x(df)[:, None] - want[df.frame.to_numpy()]).argmin(1)        # which path each row is on
    ids = df.groupby(who).face_id.unique()
    assert all(len(v) == 1 for v in ids) and len({int(v[0]) for v in ids}) == 3, ids.to_dict()
    assert df.tracked.mean() > 0.8 and (df[df.tracked == 0].frame % DETECT_EVERY == 0).all()


def test_a_face_leaves_and_another_enters_with_a_new_id(work, head, pred):
    """Face a walks out of the right edge (gone from frame 18); face c appears at frame 30 where a was: c gets a new id,
    found at the next detection; b, in place all along, keeps its id; ids are never reused in the file."""
    def paths(i):
        return [place(400 + 16 * i, 180, 0.7, 0, HEAD) if i < 18 else None, place(150, 170, 0.7, 0, HEAD),
                place(470, 190, 0.7, 0, HEAD) if i >= 30 else None]
    write_video(work / "leave.mp4", [compose_frame(head, paths(i), 640, 360) for i in range(60)])
    df = pred.predict(work / "leave.mp4")
    x = centre_x(df)
    b = df[x < 250]; a = df[(x >= 250) & (df.frame < 12)]; c = df[(x >= 250) & (df.frame >= 30)]
    assert b.face_id.nunique() == 1 and len(b) == 60
    assert a.face_id.nunique() == 1 and len(a) == 12
    assert c.face_id.nunique() == 1 and c.frame.min() <= 30 + DETECT_EVERY and (df.frame >= c.frame.min()).sum() == 2 * (60 - c.frame.min())
    assert len({int(a.face_id.iloc[0]), int(b.face_id.iloc[0]), int(c.face_id.iloc[0])}) == 3
    firsts = df.groupby("face_id").frame.min().sort_index()
    assert firsts.is_monotonic_increasing           # ids count up in order of appearance: none is reused


def test_a_cut_to_no_face_and_back_starts_new_tracks(work, head, pred, capsys):
    """Two faces, a cut to an empty grey frame (2 frames), the same two faces back: the empty frames get face_detected=0
    rows, and the faces after the cut get two new ids (a track does not survive a frame without its face)."""
    faces = compose_frame(head, [place(180, 180, 0.7, 0, HEAD), place(460, 180, 0.7, 0, HEAD)], 640, 360)
    grey = np.full_like(faces, 96)
    write_video(work / "cut.mp4", [faces] * 10 + [grey] * 2 + [faces] * 10)
    rc, out = cli(["--checkpoint", work / "run", work / "cut.mp4", "--out", work / "cut.csv"], capsys)
    df = pd.read_csv(work / "cut.csv")
    assert rc == 0 and df[df.frame.between(10, 11)].face_detected.tolist() == [0, 0]
    before, after = df[df.frame < 10], df[df.frame >= 12]
    assert len(before) == len(after) == 20 and before.face_id.nunique() == after.face_id.nunique() == 2
    assert set(before.face_id) == {0, 1} and set(after.face_id) == {2, 3}
    assert after[after.frame == 12].tracked.sum() == 0 and after[after.frame > 12].tracked.all()
    assert "faces detected in 4 frames" in out          # 0, the two empty ones (no track to follow), 12


def test_detect_every_one_and_openface_face_id(work, head, capsys):
    """--detect-every 1 detects on every frame (no row tracked) and still links ids by overlap; OpenFace's face_id column
    is the track's id; --detect-every 0 is refused."""
    frames = [compose_frame(head, [place(200 + 3 * i, 180, 0.7, 0, HEAD), place(470, 180, 0.7, 0, HEAD)], 640, 360)
              for i in range(12)]
    write_video(work / "two.mp4", frames)
    rc, out = cli(["--checkpoint", work / "run", work / "two.mp4", "--out", work / "two.csv", "--detect-every", "1",
                   "--columns", "openface"], capsys)
    df = pd.read_csv(work / "two.csv")
    assert rc == 0 and df.tracked.sum() == 0 and "faces detected in 12 frames" in out
    assert df.groupby("face_id").size().to_dict() == {0: 12, 1: 12}
    with pytest.raises(SystemExit):
        predict_cli(["--checkpoint", str(work / "run"), str(work / "two.mp4"), "--out", str(work / "x.csv"), "--detect-every", "0"])
    assert "--detect-every 0: must be at least 1" in capsys.readouterr().err


# ---------------------------------------------------------------- videos that are not what they say

def test_frame_size_changing_mid_stream(work, head, pred, capsys):
    """Two MPEG-TS files of different frame sizes joined into one (a valid stream that changes size at frame 8): every
    frame gets its row, the tracks end at the change (new ids after it), and the summary notes the file and frame."""
    a = [compose_frame(head, [place(320, 180, 0.7, 0, HEAD)], 640, 360)] * 8
    b = [compose_frame(head, [place(240, 240, 0.9, 0, HEAD)], 480, 480)] * 8
    write_video(work / "a.ts", a); write_video(work / "b.ts", b)
    (work / "size.ts").write_bytes((work / "a.ts").read_bytes() + (work / "b.ts").read_bytes())
    rc, out = cli(["--checkpoint", work / "run", work / "size.ts", "--out", work / "size.csv"], capsys)
    df = pd.read_csv(work / "size.csv")
    assert rc == 0 and df.frame.tolist() == list(range(16)) and (df.face_detected == 1).all()
    assert set(df.face_id[:8]) == {0} and set(df.face_id[8:]) == {1} and df.tracked[8] == 0
    assert f"NOTE {work / 'size.ts'}: frame 8: frame size changed from 640x360 to 480x480" in out
    assert "frame 8: the container's timestamps stop increasing" in out                    # the second file restarts them
    assert np.allclose(df.timestamp[8:], np.arange(8, 16) / 25)


def test_truncated_videos_keep_rows_up_to_the_last_good_frame(work, head, capsys):
    """A Matroska file cut at 60%: the decoder stops early without an error; rows up to its last frame are written and
    a note names the file, that frame and the header's count. An MP4 with its index first (faststart) cut at 60%: the
    decoder fails; rows up to the last good frame are written, the input is FAILED naming the frame, exit 1."""
    import av
    from aunce.predict import motion_matrices, warp_frame       # a moving photo: frames of similar sizes in the file
    frames = [warp_frame(astronaut(), M, 640, 360) for M in motion_matrices(30)]
    write_video(work / "full.mkv", frames)
    data = (work / "full.mkv").read_bytes(); (work / "cut.mkv").write_bytes(data[: len(data) * 6 // 10])
    rc, out = cli(["--checkpoint", work / "run", work / "cut.mkv", "--out", work / "cut_mkv.csv"], capsys)
    df = pd.read_csv(work / "cut_mkv.csv")
    last = int(df.frame.max())
    assert rc == 0 and 5 < last < 29 and df.frame.tolist() == list(range(last + 1))
    assert f"NOTE {work / 'cut.mkv'}: the video ends after frame {last} but its header states 30 frames" in out

    with av.open(str(work / "fast.mp4"), "w", options={"movflags": "faststart"}) as c:
        st = c.add_stream("libx264", rate=25); st.height, st.width = 360, 640; st.pix_fmt = "yuv420p"
        for f in frames:
            for pkt in st.encode(av.VideoFrame.from_ndarray(f, format="rgb24")): c.mux(pkt)
        for pkt in st.encode(): c.mux(pkt)
    data = (work / "fast.mp4").read_bytes(); (work / "cut.mp4").write_bytes(data[: len(data) * 6 // 10])
    rc, out = cli(["--checkpoint", work / "run", work / "cut.mp4", "--out", work / "cut_mp4.csv"], capsys)
    df = pd.read_csv(work / "cut_mp4.csv")
    last = int(df.frame.max())
    assert rc == 1 and 5 < last < 29 and df.frame.tolist() == list(range(last + 1)) and (df.face_detected == 1).all()
    assert f"FAILED {work / 'cut.mp4'}: decoding failed at frame {last + 1} (rows up to frame {last} were made" in out


def _patch_mp4(src, dst, box: bytes, offset: int, value: int):
    "Copy an MP4 with the 32-bit field `offset` bytes after the (first) `box` name set to `value`."
    b = bytearray(src.read_bytes()); i = b.find(box); assert i > 0
    b[i + offset: i + offset + 4] = struct.pack(">I", value); dst.write_bytes(bytes(b))


def test_frame_rate_zero_in_the_container(work, head, pred, capsys):
    """An MP4 whose frames all last 0 ticks (`stts` delta 0: every timestamp 0): rows for the frames decoded, timestamps
    from the frame rate after a note naming the file and frame (not a column of zeros), and a note for the frames the
    header states but the decoder did not give. An MP4 whose time scale is 0 (`mdhd`): no frame decodes; the input is
    FAILED with the container's rate and time base."""
    write_video(work / "ok.mp4", [compose_frame(head, [place(320, 180, 0.7, 0, HEAD)], 640, 360)] * 12)
    _patch_mp4(work / "ok.mp4", work / "dur0.mp4", b"stts", 16, 0)
    _patch_mp4(work / "ok.mp4", work / "scale0.mp4", b"mdhd", 16, 0)
    rc, out = cli(["--checkpoint", work / "run", work / "dur0.mp4", work / "scale0.mp4", "--out", work / "fps0.csv"], capsys)
    df = pd.read_csv(work / "fps0.csv")
    assert rc == 1 and len(df) >= 6 and (df.face_detected == 1).all()
    assert np.allclose(df.timestamp, df.frame / 25) and df.timestamp.nunique() == len(df)
    assert f"NOTE {work / 'dur0.mp4'}: frame 1: the container's timestamps stop increasing (0 s after 0 s)" in out
    assert f"FAILED {work / 'scale0.mp4'}: video has no frames (the container states 12 frames" in out
