"""Training throughput: images/s of a full training step (forward of two views, AUNCE loss, backward, AdamW step) by
backbone, precision, channels_last and torch.compile, on synthetic input (the model alone), beside the data
loader's own images/s (JPEG decode + two-view augmentation, with workers, on a small SynthAU set), so that one
sees which of the two limits a run; and a profile of the loss's parts.

    python benchmarks/train_speed.py                         # CPU defaults: small images, few steps (a few minutes)
    python benchmarks/train_speed.py --device cuda --image-size 224 --batch-size 64 --steps 20 \\
        --backbones tiny,resnet18,resnet50,swin_t,swin_b --channels-last 0,1 --compile 0,1
    python benchmarks/train_speed.py --only loader --workers 0,2,4   # the loader alone
    python benchmarks/train_speed.py --json out.json         # the rows as JSON too
    python benchmarks/train_speed.py --demo                  # make demo's setting: tiny16 + spatial head, 96 px, batch 32,
                                                             # channels_last and torch.compile on/off, loader with/without cache

An "image" is one face: a step on a batch of B faces encodes 2B views. Rows that cannot run (a backbone that does
not take the image size, torch.compile without a compiler) print their error instead of a number.
"""
from __future__ import annotations
import argparse, json, os, statistics, sys, time, traceback
from pathlib import Path

import torch

try:
    import aunce  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _sync(device):
    if device.type == "cuda": torch.cuda.synchronize()


def model_step_rate(backbone: str, precision: str, channels_last: bool, compile_: bool, *, device, image_size: int,
                    batch_size: int, steps: int, warmup: int, embed_dim: int, num_aus: int = 12, head: str = "anfl") -> dict:
    "Faces/s and views/s of full training steps on synthetic input (median of per-step times after `warmup`)."
    from aunce.encoder import AUEncoder
    from aunce.loss import AUNCELoss
    from aunce.train import autocast, make_optimizer
    torch.manual_seed(0)
    kw = {"img_size": image_size} if ("swin" in backbone or head == "spatial") else {}
    model = AUEncoder(backbone, num_aus=num_aus, embed_dim=embed_dim, head=head, **kw).to(device)
    if channels_last: model = model.to(memory_format=torch.channels_last)
    net = torch.compile(model) if compile_ else model
    loss_fn = AUNCELoss(tau=0.2, p=(0.15, 0.15, 0.7, 0.0), neg_power="hcl",
                        minority=torch.ones(num_aus, dtype=torch.long)).to(device)
    opt = make_optimizer(model.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2 * batch_size, 3, image_size, image_size, generator=g).to(device)
    if channels_last: x = x.contiguous(memory_format=torch.channels_last)
    y = (torch.rand(batch_size, num_aus, generator=g) < 0.3).long().to(device)
    times = []
    t_first = time.perf_counter()
    for i in range(warmup + steps):
        _sync(device); t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with autocast(device, precision):
            z = net(x).float()
            loss = loss_fn(z[:batch_size], z[batch_size:], y)
        loss.backward(); opt.step()
        _sync(device); times.append(time.perf_counter() - t0)
        if i == warmup - 1: first = time.perf_counter() - t_first
    t = statistics.median(times[warmup:])
    return {"faces_per_s": batch_size / t, "views_per_s": 2 * batch_size / t, "step_ms": 1e3 * t,
            "warmup_s": first if warmup else 0.0,
            "params_M": sum(p.numel() for p in model.parameters()) / 1e6}


def loader_rate(workers: int, *, image_size: int, batch_size: int, batches: int, views: str = "simclr",
                cache: bool = False) -> dict:
    """Faces/s of the training DataLoader (JPEG decode, alignment resize, two augmented views) on a small SynthAU set;
    `cache`: aligned faces kept in memory (`aunce.train.cache_images`, as `train` does when they fit), timed after one
    pass has filled it."""
    from torch.utils.data import DataLoader
    from aunce.data import AUDataset, load_frames
    from aunce.transforms import TwoViews
    from aunce.train import TrainConfig, ensure_synth, make_transform, aligned_size, cache_images
    cfg = TrainConfig(dataset="synth", subjects=4, frames=max(32, batch_size * batches // 4 + 1), image_size=image_size,
                      cache_dir="runs/cache", label_noise=0.2)
    root = ensure_synth(cfg)
    frames = load_frames("synth", root, fold=cfg.fold, split="train")
    ds = AUDataset(frames, transform=TwoViews(make_transform(views, image_size)), size=aligned_size(cfg))
    if cache:
        cache_images(ds)
        for i in range(len(ds)): ds.load_image(i)
    dl = DataLoader(ds, batch_size=batch_size, shuffle=True, num_workers=workers, drop_last=True,
                    generator=torch.Generator().manual_seed(0), persistent_workers=False)
    it = iter(dl)
    next(it)   # worker start-up and the first batch are not counted
    n, t0 = 0, time.perf_counter()
    for _ in range(batches - 1):
        try: b = next(it)
        except StopIteration: it = iter(dl); b = next(it)
        n += len(b["labels"])
    dt = time.perf_counter() - t0
    return {"faces_per_s": n / dt, "views_per_s": 2 * n / dt, "frames_in_set": len(ds)}


def profile_loss(B: int, K: int = 12, d: int = 512, reps: int = 5, device="cpu") -> list[tuple[str, float]]:
    "Milliseconds (median of `reps`) of aunce_loss's parts, forward and backward, at batch B (2B views)."
    from aunce.loss import aunce_loss, normalize_embeddings
    from aunce.sampler import pair_masks, draw_types, positive_logits
    from aunce.reweighting import beta_per_anchor, negative_log_term
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(B, K, d, generator=g), torch.randn(B, K, d, generator=g)
    y = (torch.rand(B, K, generator=g) < 0.3).long()
    p, tau = (0.15, 0.15, 0.7, 0.0), 0.2
    def med(fn):
        ts = []
        for _ in range(reps + 1):
            t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
        return 1e3 * statistics.median(ts[1:])
    def whole():
        a, b = z1.clone().requires_grad_(), z2.clone().requires_grad_()
        aunce_loss(a, b, y, tau=tau, p=p, neg_power="hcl").backward()
    zc = torch.cat([z1, z2])
    zn = normalize_embeddings(zc)
    zk = zn.transpose(0, 1)
    s = torch.bmm(zk, zk.transpose(1, 2)) / tau
    y2 = torch.cat([y, y]); P, N = pair_masks(y2)
    beta = beta_per_anchor(y2, None, 1.2, 0.4, dtype=torch.float32)
    drawn = draw_types(2 * B, K, p, "anchor", torch.Generator().manual_seed(0))
    def norm_fb():
        a = zc.clone().requires_grad_(); normalize_embeddings(a).sum().backward()
    def fnorm_fb():
        a = zc.clone().requires_grad_(); F.normalize(a, dim=-1).sum().backward()
    def sims_fb():
        a = zn.clone().requires_grad_(); k = a.transpose(0, 1); (torch.bmm(k, k.transpose(1, 2)) / tau).sum().backward()
    def neg_fb():
        a = s.clone().requires_grad_(); negative_log_term(a, beta.T[..., None], N, "hcl").sum().backward()
    def pos_fb():
        a, b = s.clone().requires_grad_(), zn.clone().requires_grad_()
        positive_logits(a, b, P, drawn, tau)[0].sum().backward()
    return [("whole aunce_loss (fwd+bwd)", med(whole)), ("normalize_embeddings (fwd+bwd)", med(norm_fb)),
            ("  plain F.normalize, for comparison", med(fnorm_fb)), ("similarities bmm (fwd+bwd)", med(sims_fb)),
            ("pair_masks", med(lambda: pair_masks(y2))), ("negative term, hcl (fwd+bwd)", med(neg_fb)),
            ("positive logits (fwd+bwd)", med(pos_fb))]


def _split(s, f=str): return [f(v) for v in str(s).split(",") if v != ""]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--backbones", default=None, help="default: tiny,resnet18,resnet50,swin_t,swin_b")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--channels-last", default=None, help="0,1 (default: 0,1 for CNNs on CUDA; 0 on CPU, plus a tiny row with 1)")
    ap.add_argument("--compile", default=None, help="0,1 (default: 0; on CPU plus one tiny row with 1)")
    ap.add_argument("--image-size", type=int, default=None, help="default 224 on CUDA, 64 on CPU (swin: 224 / 64)")
    ap.add_argument("--batch-size", type=int, default=None, help="faces per step (default 64 on CUDA, 8 on CPU)")
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default 10 on CUDA, 2 on CPU)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--embed-dim", type=int, default=512)
    ap.add_argument("--workers", default=None, help="loader workers to try (default 0,2)")
    ap.add_argument("--loader-batches", type=int, default=8)
    ap.add_argument("--only", choices=("model", "loader", "loss"), default=None)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    ap.add_argument("--head", default="anfl", help="the encoder's per-AU head: anfl | spatial")
    ap.add_argument("--views", default="simclr", help="the loader's views (make_transform kind)")
    ap.add_argument("--cache", default="0", help="loader with the aligned-face cache: 0,1")
    ap.add_argument("--demo", action="store_true", help="make demo's setting (see above); other options still override")
    ap.add_argument("--json", default="", help="also write the rows here")
    a = ap.parse_args(argv)
    if a.demo:
        given = set(argv if argv is not None else sys.argv[1:])
        for opt, v in (("--backbones", "tiny16"), ("--head", "spatial"), ("--image-size", 96), ("--batch-size", 32),
                       ("--embed-dim", 64), ("--channels-last", "0,1"), ("--compile", "0,1"), ("--precisions", "fp32"),
                       ("--steps", 5), ("--warmup", 2), ("--views", "flip"), ("--cache", "0,1"), ("--workers", "0"),
                       ("--loader-batches", 20)):
            if opt not in given: setattr(a, opt[2:].replace("-", "_"), v)
    from aunce.train import resolve_device
    dev = resolve_device(a.device)
    if a.threads: torch.set_num_threads(a.threads)
    cuda = dev.type == "cuda"
    size = a.image_size or (224 if cuda else 64)
    bs, steps = a.batch_size or (64 if cuda else 8), a.steps or (10 if cuda else 2)
    backbones = _split(a.backbones or "tiny,resnet18,resnet50,swin_t,swin_b")
    cl_opts = _split(a.channels_last, int) if a.channels_last is not None else ([0, 1] if cuda else [0])
    comp_opts = _split(a.compile, int) if a.compile is not None else [0]
    rows = []
    print(f"device {dev} ({torch.cuda.get_device_name(dev) if cuda else os.cpu_count()} "
          f"{'' if cuda else 'CPUs, ' + str(torch.get_num_threads()) + ' torch threads'}); torch {torch.__version__}; "
          f"image {size}px, batch {bs} faces (= {2 * bs} views), {steps} timed steps after {a.warmup} warm-up", flush=True)
    if a.only in (None, "model"):
        grid = [(b, p, cl, c) for b in backbones for p in _split(a.precisions) for cl in cl_opts for c in comp_opts
                if not (cl and b.startswith("swin"))]   # channels_last is a convolution layout
        if not cuda and a.channels_last is None and a.compile is None and "tiny" in backbones and not a.demo:
            grid += [("tiny", "fp32", 1, 0), ("tiny", "fp32", 0, 1)]
        print(f"\n{'backbone':10} {'precision':9} {'ch_last':7} {'compile':7} {'params M':>8} {'faces/s':>9} "
              f"{'views/s':>9} {'step ms':>9} {'warm-up s':>9}")
        for b, p, cl, c in grid:
            try:
                r = model_step_rate(b, p, bool(cl), bool(c), device=dev, image_size=size, batch_size=bs, steps=steps,
                                    warmup=max(a.warmup, 1 if c else 0), embed_dim=a.embed_dim, head=a.head)
                print(f"{b:10} {p:9} {cl:7} {c:7} {r['params_M']:8.1f} {r['faces_per_s']:9.1f} {r['views_per_s']:9.1f} "
                      f"{r['step_ms']:9.1f} {r['warmup_s']:9.1f}", flush=True)
            except Exception as e:
                r = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"}
                print(f"{b:10} {p:9} {cl:7} {c:7} error: {r['error']}", flush=True)
            rows.append({"kind": "model", "backbone": b, "precision": p, "channels_last": cl, "compile": c,
                         "image_size": size, "batch_size": bs, **r})
            if cuda: torch.cuda.empty_cache()
    if a.only in (None, "loader"):
        print(f"\nloader (SynthAU JPEGs -> align to {int(size * 256 / 224)}px -> two {a.views} views of {size}px), "
              f"batch {bs}, {a.loader_batches} batches")
        print(f"{'workers':7} {'cache':5} {'faces/s':>9} {'views/s':>9}")
        for w in _split(a.workers or "0,2", int):
            for cache in _split(a.cache, int):
                r = loader_rate(w, image_size=size, batch_size=bs, batches=a.loader_batches, views=a.views, cache=bool(cache))
                print(f"{w:7} {cache:5} {r['faces_per_s']:9.1f} {r['views_per_s']:9.1f}", flush=True)
                rows.append({"kind": "loader", "workers": w, "cache": cache, "image_size": size, "batch_size": bs, **r})
        print("A run is limited by the smaller of the model's and the loader's faces/s.")
    if a.only in (None, "loss"):
        Bl = 64
        print(f"\naunce_loss parts on the CPU, B = {Bl} faces (128 views), K = 12, d = 512, float32, ms (median):")
        for name, ms in profile_loss(Bl):
            print(f"  {name:38} {ms:8.2f}"); rows.append({"kind": "loss", "part": name, "ms": ms, "B": Bl})
    if a.json: Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
