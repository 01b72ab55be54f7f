#!/usr/bin/python3
"""Generates the synthetic race-photo corpus for bench/run (cached in bench/corpus/).

Each photo: a crop of one of Debian's mate-backgrounds pictures scaled to 24 MP
(6000x4000), sponsor-like distractors (text, stripes), 0-3 white bib cards with
a number and a QR code (80 %) or Code 128 barcode (20 %) at module sizes 3-12 px,
rotated within +-25 degrees, slightly blurred, shaded, anywhere in the frame;
camera-like noise; JPEG quality 92. Some photos are stored rotated with EXIF
orientation 6. truth.json lists what every photo holds.

Usage: bench/corpus.py OUTDIR COUNT [SEED] [WIDTHxHEIGHT]
  WIDTHxHEIGHT: another photo size (default 6000x4000); the bib cards keep
  their pixel sizes, so smaller photos carry the same codes.
"""
import glob
import io
import json
import math
import multiprocessing
import os
import random
import sys

import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFilter, ImageFont

W, H = 6000, 4000
BACKGROUNDS = sorted(glob.glob("/usr/share/backgrounds/mate/*/*.jpg") +
                     glob.glob("/usr/share/backgrounds/mate/*/*.png"))
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
URL = "https://race.example/p/"
PATTERN = "([0-9]{3,6})$"  # what bench/run passes as --code-pattern

# Code 128 bar/space widths for values 0..106 (106 = stop).
C128 = ("212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 "
        "221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 "
        "221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
        "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 "
        "231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 "
        "231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
        "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
        "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 "
        "111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
        "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 "
        "114131 311141 411131 211412 211214 211232 2331112").split()


def code128_modules(text):
    """Code set B: the bar pattern as a list of 0/1 modules (1 = bar)."""
    values = [104] + [ord(c) - 32 for c in text]
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], 1))) % 103
    mods = []
    for v in values + [check, 106]:
        bar = True
        for wdt in C128[v]:
            mods += [1 if bar else 0] * int(wdt)
            bar = not bar
    return mods


def code_image(kind, payload, m):
    """Black-on-white code with its quiet zone, m px per module."""
    if kind == "qrcode":
        q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                          box_size=m)
        q.add_data(payload)
        q.make(fit=True)
        mat = np.array(q.get_matrix(), dtype=np.uint8)  # includes the border
        img = np.where(mat, 0, 255).astype(np.uint8)
        img = np.kron(img, np.ones((m, m), dtype=np.uint8))
        return Image.fromarray(img, "L")
    mods = np.array([0] * 10 + code128_modules(payload) + [0] * 10, dtype=np.uint8)
    width = len(mods) * m
    height = max(14 * m, width // 4)
    row = np.repeat(np.where(mods, 0, 255).astype(np.uint8), m)
    return Image.fromarray(np.tile(row, (height, 1)), "L")


def bib_card(rng, kind, number, payload, m):
    code = code_image(kind, payload, m)
    cw, ch = code.size
    pad = max(2 * m, 12)
    text_h = int(max(60, cw * 0.35))
    card = Image.new("L", (cw + 2 * pad, ch + text_h + 3 * pad), 250)
    d = ImageDraw.Draw(card)
    font = ImageFont.truetype(FONT, int(text_h * 0.8))
    d.text((card.size[0] // 2, pad + text_h // 2), str(number), fill=20, font=font,
           anchor="mm")
    card.paste(code, (pad, text_h + 2 * pad))
    return card


def distractor(rng, scene):
    """Sponsor banners and striped clothing: high contrast that is not a code."""
    d = ImageDraw.Draw(scene)
    x, y = rng.randrange(0, W - 900), rng.randrange(0, H - 500)
    if rng.random() < 0.5:
        size = rng.randrange(60, 220)
        font = ImageFont.truetype(FONT, size)
        words = rng.choice(["SPORTFUEL", "RUN CITY 10K", "AQUA+", "FINISH", "KM 21",
                            "Bank of Running", "HYDRATE", "42.195"])
        bg = tuple(rng.randrange(0, 256) for _ in range(3))
        fg = tuple(255 - c for c in bg)
        box = d.textbbox((x, y), words, font=font)
        d.rectangle((box[0] - 20, box[1] - 20, box[2] + 20, box[3] + 20), fill=bg)
        d.text((x, y), words, fill=fg, font=font)
    else:
        period = rng.randrange(6, 40)
        w, h = rng.randrange(200, 900), rng.randrange(200, 500)
        c1 = tuple(rng.randrange(0, 256) for _ in range(3))
        c2 = tuple(rng.randrange(0, 256) for _ in range(3))
        for i in range(0, w, period):
            d.rectangle((x + i, y, x + i + period // 2, y + h), fill=c1)
            d.rectangle((x + i + period // 2, y, x + i + period, y + h), fill=c2)


def background(rng):
    path = rng.choice(BACKGROUNDS)
    src = Image.open(path).convert("RGB")
    sw, sh = src.size
    frac = rng.uniform(0.5, 1.0)
    cw = int(min(sw, sh * 1.5) * frac)
    ch = int(cw / 1.5)
    x, y = rng.randrange(0, sw - cw + 1), rng.randrange(0, sh - ch + 1)
    return src.crop((x, y, x + cw, y + ch)).resize((W, H), Image.BILINEAR), os.path.basename(path)


NOISE = 1024
_noise = None


def noise_tile():
    """NOISE x NOISE x 3 noise (sigma 4 luma + 1.6 chroma), made once per process."""
    global _noise
    if _noise is None:
        g = np.random.default_rng(12345)
        luma = g.standard_normal((NOISE, NOISE, 1), dtype=np.float32) * 4.0
        chroma = g.standard_normal((NOISE, NOISE, 3), dtype=np.float32) * 1.6
        _noise = luma + chroma
    return _noise


def make_photo(args):
    index, outdir, seed = args
    rng = random.Random(seed * 100003 + index)
    scene, bg_name = background(rng)
    for _ in range(rng.randrange(0, 5)):
        distractor(rng, scene)

    ncards = rng.choices([0, 1, 2, 3], weights=[15, 35, 30, 20])[0]
    placed, codes = [], []
    used_numbers = set()
    for _ in range(ncards):
        kind = "qrcode" if rng.random() < 0.8 else "code128"
        m = rng.randrange(3, 13)
        number = rng.randrange(100, 99999)
        while number in used_numbers:
            number = rng.randrange(100, 99999)
        used_numbers.add(number)
        payload = (URL + str(number)) if kind == "qrcode" and rng.random() < 0.5 else str(number)
        angle = rng.uniform(-25, 25)
        card = bib_card(rng, kind, number, payload, m)
        blur = rng.uniform(0.4, 0.9)
        shade = rng.uniform(0.75, 1.0)
        rgba = Image.merge("RGBA", [card.point(lambda v: int(v * shade))] * 3 +
                           [Image.new("L", card.size, 255)])
        rgba = rgba.rotate(angle, resample=Image.BICUBIC, expand=True)
        rgba = rgba.filter(ImageFilter.GaussianBlur(blur))
        cw, ch = rgba.size
        if cw >= W or ch >= H:
            continue
        for _attempt in range(50):
            x, y = rng.randrange(0, W - cw), rng.randrange(0, H - ch)
            if all(x + cw < px or px + pw < x or y + ch < py or py + ph < y
                   for px, py, pw, ph in placed):
                break
        else:
            continue
        placed.append((x, y, cw, ch))
        scene.paste(rgba, (x, y), rgba)
        codes.append({"code": str(number), "symbology": kind, "module": m,
                      "angle": round(angle, 1), "blur": round(blur, 2),
                      "box": [x, y, cw, ch]})

    # Sensor noise: luminance-correlated plus a little chroma, from a noise
    # tile shifted per photo (drawing 96 M normals per photo would dominate
    # the generation time).
    arr = np.asarray(scene, dtype=np.int16)
    sigma = rng.uniform(2.5, 5.0)
    tile = noise_tile()
    dy, dx = rng.randrange(0, NOISE), rng.randrange(0, NOISE)
    reps = (H // NOISE + 2, W // NOISE + 2, 1)
    big = np.tile(np.roll(tile, (dy, dx), axis=(0, 1)), reps)[:H, :W]
    arr += (big * (sigma / 4.0)).astype(np.int16)
    np.clip(arr, 0, 255, out=arr)
    scene = Image.fromarray(arr.astype(np.uint8), "RGB")
    del arr, big

    orientation = 6 if rng.random() < 0.2 else 1
    exif = Image.Exif()
    taken = None
    if rng.random() < 0.9:
        ifd = {0x9003: "2024:04:%02d %02d:%02d:%02d" % (rng.randrange(1, 29), rng.randrange(7, 14),
                                                        rng.randrange(0, 60), rng.randrange(0, 60))}
        taken = ifd[0x9003]
        if rng.random() < 0.5:
            ifd[0x9011] = "+02:00"
        exif[0x8769] = ifd
    if orientation == 6:
        # Stored turned a quarter anticlockwise and tagged to be turned back
        # clockwise for display, as a camera held sideways does: a pipeline
        # that ignores the tag produces a 1333x2000 variant instead of 2000x1333.
        scene = scene.transpose(Image.ROTATE_90)
        exif[0x0112] = 6
    disp_w, disp_h = W, H
    name = "race_%04d.jpg" % index
    scene.save(os.path.join(outdir, name), "JPEG", quality=92, exif=exif.tobytes())
    longest = max(disp_w, disp_h)
    return name, {"background": bg_name, "orientation": orientation,
                  "width": disp_w, "height": disp_h,
                  "fullsize": [round(disp_w * 2000 / longest), round(disp_h * 2000 / longest)],
                  "codes": codes}


def main():
    outdir, count = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if len(sys.argv) > 4:
        # Read by make_photo in the pool's forked workers.
        global W, H
        W, H = (int(v) for v in sys.argv[4].lower().split("x"))
        if W < 1200 or H < 800:
            sys.exit("corpus: photos smaller than 1200x800 cannot hold the bib cards")
    os.makedirs(outdir, exist_ok=True)
    jobs = [(i, outdir, seed) for i in range(count)]
    truth = {}
    with multiprocessing.Pool(min(2, os.cpu_count() or 1)) as pool:
        for name, info in pool.imap_unordered(make_photo, jobs):
            truth[name] = info
            print("corpus: %s (%d codes)" % (name, len(info["codes"])), file=sys.stderr)
    truth = dict(sorted(truth.items()))
    with open(os.path.join(outdir, "truth.json"), "w") as f:
        json.dump({"pattern": PATTERN, "photos": truth}, f, indent=1)


if __name__ == "__main__":
    main()
