"""The learnability check's training loop (aunce.synth.learnability_check: in-memory aligned faces, one random shift
per batch and a flip, AdamW + one-cycle lr, BCE, 12 epochs) with a chosen model, on make demo's data and training
subjects; prints the model's clean test AUC, F1 at 0.5 and the AUs above the all-positive F1 by 2 points. This is
how the table "Choosing the head" in nbs/09_encoder.ipynb was measured (there on make demo's data rendered at 112 px).

    .venv/bin/python benchmarks/check_loop_models.py --model cnn                    # the check's 4-layer CNN
    .venv/bin/python benchmarks/check_loop_models.py --model tiny16_spatial         # BACKBONE_HEAD in an AUClassifier
    .venv/bin/python benchmarks/check_loop_models.py --model tiny16_spatial --roll 0 --c 16 --d 32 --drop 0.3 --relu 0
    .venv/bin/python benchmarks/check_loop_models.py --model tiny16_spatial --square 112   # the pipeline's 96 crop of a 112 face
"""
import sys, time, json, argparse, numpy as np, torch, torch.nn as nn
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from synth_learnability import demo_data
from aunce.synth import _read_split, _aligned_tensor, _f1, tiny_cnn, _auc_mean
from aunce.encoder import AUEncoder, AUClassifier
ap = argparse.ArgumentParser(); ap.add_argument("--model", default="cnn"); ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--roll", type=int, default=3); ap.add_argument("--epochs", type=int, default=12); ap.add_argument("--crop", type=int, default=64)
ap.add_argument("--relu", type=int, default=1); ap.add_argument("--json", default=""); ap.add_argument("--sched", default="onecycle"); ap.add_argument("--lr", type=float, default=3e-3)
ap.add_argument("--wd", type=float, default=1e-4); ap.add_argument("--drop", type=float, default=0.0); ap.add_argument("--c", type=int, default=64); ap.add_argument("--d", type=int, default=64); ap.add_argument("--square", type=int, default=0)
a = ap.parse_args(); torch.set_num_threads(1)
root, subs = demo_data()
ptr, ytr, Ltr = _read_split(root, 1, "train", clean=False)
keep = np.isin([p.parent.parent.name for p in ptr], subs); ptr = [p for p, k in zip(ptr, keep) if k]; ytr, Ltr = ytr[keep], Ltr[keep]
pte, yte, Lte = _read_split(root, 1, "test", clean=True)
if a.square:   # the pipeline's view: aligned at a.square, centre 96 crop
    from aunce.face import align_face; from PIL import Image
    def al(paths, L):
        A = a.square; o = (A - 96) // 2
        x = np.stack([align_face(np.asarray(Image.open(p).convert("RGB")), l, A)[0][o:o + 96, o:o + 96] for p, l in zip(paths, L)])
        return (torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255 - 0.5) / 0.25
    xtr, xte = al(ptr, Ltr), al(pte, Lte)
else: xtr, xte = _aligned_tensor(ptr, Ltr, a.crop), _aligned_tensor(pte, Lte, a.crop)
torch.manual_seed(a.seed); g = torch.Generator().manual_seed(a.seed)
K = ytr.shape[1]
if a.model == "cnn":
    if a.square: raise SystemExit("--square is for the package's models; the CNN is built for the 96x80 box")
    net = tiny_cnn(K, a.crop)
else:
    bb, head = a.model.split("_")
    H, W = xtr.shape[2:]
    enc = AUEncoder(bb, K, a.d, head=head, img_size=max(H, W), embedding="relu" if a.relu else "pre_relu")
    if head == "spatial":   # non-square box: count tokens on the real shape
        from aunce.encoder import SpatialAUHead, backbone_tokens
        with torch.no_grad(): n = backbone_tokens(enc.backbone.eval(), xtr[:1]).shape[1]
        enc.spatial = SpatialAUHead(K, enc.num_features, n, a.d, a.c, dropout=a.drop)
    net = AUClassifier(enc)
opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=a.wd)
steps = a.epochs * (-(-len(xtr) // 32))
sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=steps) if a.sched == "onecycle" else torch.optim.lr_scheduler.LambdaLR(opt, lambda i: a.lr / 2e-3)
yt = torch.from_numpy(ytr); lossf = nn.BCEWithLogitsLoss(); t0 = time.time()
for ep in range(a.epochs):
    net.train(); perm = torch.randperm(len(xtr), generator=g)
    for i in range(0, len(xtr), 32):
        idx = perm[i:i + 32]; xb = xtr[idx]
        sh = torch.randint(-a.roll, a.roll + 1, (2,), generator=g).tolist()
        xb = torch.roll(xb, sh, (2, 3))
        if torch.rand(1, generator=g).item() < 0.5: xb = xb.flip(3)
        loss = lossf(net(xb), yt[idx]); opt.zero_grad(); loss.backward(); opt.step(); sched.step()
net.eval()
with torch.no_grad(): pr = torch.cat([net(xte[i:i + 256]) for i in range(0, len(xte), 256)]).sigmoid().numpy()
f1 = _f1((pr >= 0.5).astype(int), yte.astype(int)); f1b = _f1(np.ones_like(yte, dtype=int), yte.astype(int))
row = dict(tag=" ".join(sys.argv[1:]), auc=round(100 * float(np.nanmean(_auc_mean(pr, yte))), 1), f1_05=round(100 * f1.mean(), 1), above=int((f1 - f1b > 0.02).sum()), secs=round(time.time() - t0))
print("RESULT", json.dumps(row))
if a.json: open(a.json, "a").write(json.dumps(row) + "\n")
