#!/usr/bin/python3
"""The pipeline a user would otherwise write with Debian's python3-pil and
python3-zbar: full-resolution zbar scan, Pillow resize to both sizes, overlay,
JPEG save. Same settings as `photofinish process` (pattern, sizes, quality,
overlay placement). Prints one JSON line per input like photofinish process.

Usage: bench/reference.py --code-pattern RE --overlay PNG -o DIR FILE...
"""
import argparse
import json
import os
import re
import sys
import time

import zbar
from PIL import Image, ImageOps

VALID = re.compile(r"^[A-Z0-9_.-]{1,64}$")


def to_code(pattern, payload):
    payload = payload.strip()
    if pattern:
        m = pattern.search(payload)
        if not m:
            return None
        payload = m.group(1) if m.groups() and m.group(1) is not None else m.group(0)
    code = payload.strip().upper()
    return code if VALID.match(code) else None


def fit(img, size):
    w, h = img.size
    s = min(1.0, size / max(w, h))
    if s >= 1.0:
        return img.copy()
    return img.resize((round(w * s), round(h * s)), Image.LANCZOS)


def stamp(img, logo, width_frac=0.2, margin_frac=0.02):
    w = round(img.width * width_frac)
    h = round(w * logo.height / logo.width)
    m = round(img.width * margin_frac)
    scaled = logo.resize((w, h), Image.LANCZOS)
    img.paste(scaled, (img.width - w - m, img.height - h - m), scaled)
    return img


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--code-pattern")
    ap.add_argument("--overlay")
    ap.add_argument("-o", "--output", default=".")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    pattern = re.compile(args.code_pattern) if args.code_pattern else None
    logo = Image.open(args.overlay).convert("RGBA") if args.overlay else None
    scanner = zbar.ImageScanner()
    scanner.parse_config("disable")
    scanner.parse_config("qrcode.enable")
    scanner.parse_config("code128.enable")
    for path in args.files:
        t0 = time.monotonic()
        img = Image.open(path)
        img.load()
        img = ImageOps.exif_transpose(img).convert("RGB")
        t1 = time.monotonic()
        grey = img.convert("L")
        zimg = zbar.Image(grey.width, grey.height, "Y800", grey.tobytes())
        scanner.scan(zimg)
        codes = sorted({c for c in (to_code(pattern, s.data) for s in zimg) if c})
        t2 = time.monotonic()
        full = fit(img, 2000)
        thumb = fit(full, 500)
        stem = os.path.splitext(os.path.basename(path))[0]
        if logo:
            full_out = stamp(full.copy(), logo)
            thumb = stamp(thumb, logo)
        else:
            full_out = full
        full_out.save(os.path.join(args.output, stem + ".full.jpg"), "JPEG", quality=82,
                      optimize=True, progressive=True)
        thumb.save(os.path.join(args.output, stem + ".thumb.jpg"), "JPEG", quality=82,
                   optimize=True)
        t3 = time.monotonic()
        print(json.dumps({"file": path, "codes": codes, "width": full.width,
                          "height": full.height, "thumbnailWidth": thumb.width,
                          "thumbnailHeight": thumb.height,
                          "ms": {"decode": (t1 - t0) * 1e3, "scan": (t2 - t1) * 1e3,
                                 "variants": (t3 - t2) * 1e3, "total": (t3 - t0) * 1e3}}),
              flush=True)


if __name__ == "__main__":
    main()
