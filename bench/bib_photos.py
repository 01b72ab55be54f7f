#!/usr/bin/python3
"""Photos of one runner for the gallery benchmarks (page weight, live updates).

Same look as bench/corpus.py (a crop of a Debian mate background, sponsor-like
distractors, camera-like noise, JPEG quality 92), but every photo carries one
bib card with the same code as a QR code (module 8 px, slightly rotated), so a
single participant page holds them all. Capture times one minute apart.

Usage: bench/bib_photos.py OUTDIR COUNT CODE [WIDTHxHEIGHT]   (default 3000x2000)
Writes bib_NNNN.jpg and a truth.json {"code", "photos": [names]}; an OUTDIR
that already holds the same request is left alone.
"""
import json
import multiprocessing
import os
import random
import sys

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402


def make(args):
    index, outdir, code = args
    rng = random.Random(7919 * (index + 1))
    W, H = corpus.W, corpus.H
    scene, _ = corpus.background(rng)
    for _ in range(rng.randrange(0, 4)):
        corpus.distractor(rng, scene)
    card = corpus.bib_card(rng, "qrcode", code, code, 8)
    rgba = Image.merge("RGBA", [card] * 3 + [Image.new("L", card.size, 255)])
    rgba = rgba.rotate(rng.uniform(-12, 12), resample=Image.BICUBIC, expand=True)
    rgba = rgba.filter(ImageFilter.GaussianBlur(0.5))
    cw, ch = rgba.size
    scene.paste(rgba, (rng.randrange(0, W - cw), rng.randrange(H // 4, H - ch)), rgba)
    arr = np.asarray(scene, dtype=np.int16)
    tile = corpus.noise_tile()
    dy, dx = rng.randrange(0, corpus.NOISE), rng.randrange(0, corpus.NOISE)
    reps = (H // corpus.NOISE + 2, W // corpus.NOISE + 2, 1)
    big = np.tile(np.roll(tile, (dy, dx), axis=(0, 1)), reps)[:H, :W]
    arr += (big * rng.uniform(0.6, 1.2)).astype(np.int16)
    np.clip(arr, 0, 255, out=arr)
    scene = Image.fromarray(arr.astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2026:05:03 %02d:%02d:00" % (8 + index // 60, index % 60)}
    name = "bib_%04d.jpg" % index
    scene.save(os.path.join(outdir, name), "JPEG", quality=92, exif=exif.tobytes())
    return name


def main():
    outdir, count, code = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    size = sys.argv[4] if len(sys.argv) > 4 else "3000x2000"
    corpus.W, corpus.H = (int(v) for v in size.lower().split("x"))
    want = {"code": code, "size": size, "photos": ["bib_%04d.jpg" % i for i in range(count)]}
    truth = os.path.join(outdir, "truth.json")
    if os.path.exists(truth):
        with open(truth) as f:
            if json.load(f) == want:
                return
    os.makedirs(outdir, exist_ok=True)
    with multiprocessing.Pool(min(2, os.cpu_count() or 1)) as pool:
        for name in pool.imap_unordered(make, [(i, outdir, code) for i in range(count)]):
            print("bib photos: %s" % name, file=sys.stderr)
    with open(truth, "w") as f:
        json.dump(want, f)


if __name__ == "__main__":
    main()
