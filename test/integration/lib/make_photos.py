#!/usr/bin/python3
"""Writes test photos with bib codes from a JSON spec on stdin.

Spec: [{"file": "a.jpg", "codes": ["10423"], "width": 2400, "height": 1600,
        "takenAt": "2026:05:03 09:14:07", "gps": false, "seed": 1}, ...]
Each code becomes a white bib card with a QR code (module size 6 px) and
the number printed, placed on a noisy gradient background. "takenAt" sets
EXIF DateTimeOriginal; "gps" adds a GPS IFD the pipeline must strip.
"""
import json
import os
import random
import sys

import qrcode
from PIL import Image, ImageDraw, ImageFilter


def qr(payload, module):
    q = qrcode.QRCode(border=4, box_size=module, error_correction=qrcode.constants.ERROR_CORRECT_M)
    q.add_data(payload)
    q.make(fit=True)
    return q.make_image(fill_color="black", back_color="white").convert("RGB")


def photo(spec, outdir):
    rng = random.Random(spec.get("seed", 1))
    w, h = spec.get("width", 2400), spec.get("height", 1600)
    img = Image.new("RGB", (w, h))
    top = (rng.randrange(40, 120), rng.randrange(80, 160), rng.randrange(120, 200))
    bottom = (rng.randrange(20, 80), rng.randrange(60, 120), rng.randrange(20, 80))
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=tuple(int(top[i] * (1 - t) + bottom[i] * t) for i in range(3)))
    codes = spec.get("codes", [])
    slot = w // max(1, len(codes))
    for i, code in enumerate(codes):
        card = Image.new("RGB", (420, 520), "white")
        q = qr(spec.get("payloadPrefix", "") + code, spec.get("module", 6))
        card.paste(q, ((420 - q.width) // 2, 20))
        ImageDraw.Draw(card).text((40, 470), code, fill="black")
        card = card.rotate(rng.uniform(-10, 10), expand=True, fillcolor=(90, 110, 90))
        x = i * slot + rng.randrange(0, max(1, slot - card.width))
        y = rng.randrange(h // 4, max(h // 4 + 1, h - card.height))
        img.paste(card, (x, y))
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    exif = Image.Exif()
    if spec.get("takenAt"):
        exif[0x8769] = {0x9003: spec["takenAt"]}
    if spec.get("gps"):
        exif[0x8825] = {1: "N", 2: (59.0, 19.0, 0.0), 3: "E", 4: (18.0, 4.0, 0.0)}
    path = os.path.join(outdir, spec["file"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img.save(path, "JPEG", quality=90, exif=exif.tobytes())


def main():
    outdir = sys.argv[1]
    for spec in json.load(sys.stdin):
        photo(spec, outdir)


if __name__ == "__main__":
    main()
