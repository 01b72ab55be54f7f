#!/usr/bin/python3
"""zbar on the whole frame: the baseline photofinish's detector must never fall
below (docs/image-pipeline.md, "Code detection").

Definition: the image in its stored orientation (photofinish scans it so),
converted to grey; frames of at most WHOLE_MAX_PX pixels are scanned at their
original size, larger ones box-reduced to 1/4 and to 1/8 of their width and
height (where big modules become ordinary and the pass is cheap), each
scanned whole. QR Code and Code 128 only, zbar's default settings. The codes
are the payloads mapped with the same rules as photofinish (pattern, trim,
upper case, ^[A-Z0-9_.-]{1,64}$).

Used by bench/groups.py and by the detection test (test/integration/).

Usage: bench/wholeframe.py [--code-pattern RE] FILE...   (one JSON line per file)
"""
import argparse
import json
import re
import sys

import zbar
from PIL import Image

WHOLE_MAX_PX = 2_200_000  # "about 2 MP": 1920 x 1080 and 1800 x 1200 included
VALID = re.compile(r"^[A-Z0-9_.-]{1,64}$")


def to_code(pattern, payload):
    payload = payload.strip()
    if "\0" in payload or len(payload) > 4096:
        return None
    if pattern:
        m = pattern.search(payload)
        if not m:
            return None
        payload = m.group(1) if m.groups() and m.group(1) is not None else m.group(0)
    code = payload.strip().upper()
    return code if VALID.match(code) and code.strip(".") else None


def scanner():
    s = zbar.ImageScanner()
    s.parse_config("disable")
    s.parse_config("qrcode.enable")
    s.parse_config("code128.enable")
    return s


def grey(path):
    img = Image.open(path)
    img.load()
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    return img.convert("L")


def reduce(g, f):
    """Box average over f x f blocks, partial blocks at the edges dropped."""
    w, h = g.width // f * f, g.height // f * f
    if w == 0 or h == 0:
        return None
    return g.crop((0, 0, w, h)).reduce(f)


def planes(g):
    if g.width * g.height <= WHOLE_MAX_PX:
        return [("1", g)]
    return [(name, p) for name, p in (("1/4", reduce(g, 4)), ("1/8", reduce(g, 8))) if p]


def scan(sc, g, pattern):
    zimg = zbar.Image(g.width, g.height, "Y800", g.tobytes())
    sc.scan(zimg)
    return {c for c in (to_code(pattern, s.data) for s in zimg) if c}


def whole_frame(path, pattern, sc=None):
    """Codes zbar reads on the whole frame, per the definition above: a dict
    plane name -> set of codes."""
    sc = sc or scanner()
    return {name: scan(sc, p, pattern) for name, p in planes(grey(path))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--code-pattern")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    pattern = re.compile(args.code_pattern) if args.code_pattern else None
    sc = scanner()
    for path in args.files:
        try:
            per = whole_frame(path, pattern, sc)
        except OSError as e:
            print(json.dumps({"file": path, "error": str(e)}), flush=True)
            continue
        codes = sorted(set().union(*per.values())) if per else []
        print(json.dumps({"file": path, "codes": codes,
                          "planes": {k: sorted(v) for k, v in per.items()}}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
