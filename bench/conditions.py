#!/usr/bin/python3
"""Generates the condition corpus for bench/run (cached in bench/conditions/):
one group of photos per condition a real race photo has and the 24 MP corpus
(bench/corpus.py) does not, plus photos without any code, for false codes.

Seeded and reproducible: photo i of group g depends only on (seed, g, i).
Backgrounds are crops of Debian's mate-backgrounds pictures (GPL-2+ or CC-BY-SA-4.0 per file, see
/usr/share/doc/mate-backgrounds/copyright); bibs are drawn like the 24 MP
corpus's (white card, printed number, QR Code or Code 128 of that number).
Every photo gets mild camera conditions (0.4-0.9 px blur, sensor noise,
JPEG 85-92) on top of its group's condition:

  closeup      a bib fills the frame: code 20-90 % of the frame height, modules 20-80 px
  small        200-1000 px frames (phone shots, crops, re-exports), modules 2.5-8 px
  perspective  bib turned 15-45 degrees out of plane about a random axis
  curvature    bib wrapped on a torso (cylinder, 15-40 degrees either side of the
               middle) and/or folded along a crease (far side 70-95 % as wide)
  blur         motion blur (0.5-1 module long) or defocus (sigma 0.2-0.4 module)
  lowcontrast  grey print, a dim/backlit frame, or glare across the code
  jpeg         JPEG quality 40-60
  noise        high-ISO noise, sigma 10-22 grey levels, with chroma
  rotation     any angle, 0-360 degrees
  mixed        QR Code and Code 128 in one frame
  crowd        4-8 bibs in one frame
  quietzone    the quiet zone partly covered (an arm, a pin, a jacket edge)
  nocode       no code: text, sponsor logos, chequered patterns, race numbers
               without a code, fences, stripes and barcode-like textures

Frame sizes vary within each group (1.4 to 6 MP; close-ups and crowds up to
12 MP; small frames smaller), so
both of the detector's paths (whole frame up to ~2 MP, downscaled passes and
regions above) are exercised. truth.json lists every photo's group and codes.

Usage: bench/conditions.py OUTDIR [PER_GROUP [NOCODE [SEED]]]
"""
import io
import json
import math
import multiprocessing
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus import BACKGROUNDS, FONT, URL, bib_card, code_image, code128_modules  # noqa: E402

PATTERN = "([0-9]{3,6})$"
GROUPS = ["closeup", "small", "perspective", "curvature", "blur", "lowcontrast", "jpeg",
          "noise", "rotation", "mixed", "crowd", "quietzone"]
SIZES = [(1440, 960), (1600, 1200), (2400, 1600), (3000, 2000)]


_backgrounds = {}


def background(rng, w, h):
    path = rng.choice(BACKGROUNDS)
    if path not in _backgrounds:
        # Decoded once per process (the large PNGs take most of a second).
        _backgrounds[path] = Image.open(path).convert("RGB")
    src = _backgrounds[path]
    sw, sh = src.size
    frac = rng.uniform(0.4, 1.0)
    cw = int(min(sw, sh * w / h) * frac)
    ch = int(cw * h / w)
    x, y = rng.randrange(0, sw - cw + 1), rng.randrange(0, sh - ch + 1)
    return src.crop((x, y, x + cw, y + ch)).resize((w, h), Image.BILINEAR)


def new_payload(rng, kind, used):
    number = rng.randrange(100, 99999)
    while number in used:
        number = rng.randrange(100, 99999)
    used.add(number)
    payload = (URL + str(number)) if kind == "qrcode" and rng.random() < 0.5 else str(number)
    return number, payload


def code_size(kind, payload, m):
    """Width and height (px) of the code drawn by code_image at m px per module."""
    if kind == "qrcode":
        n = {True: 29, False: 25}[len(payload) > 10] + 8  # version 3 / 2 with border
        return n * m, n * m
    w = (len(code128_modules(payload)) + 20) * m
    return w, max(14 * m, w // 4)


# --- card transforms (RGBA in, RGBA out) ----------------------------------

def to_rgba(card, shade=1.0, ink=None, paper=None):
    a = np.asarray(card, dtype=np.float32)
    if ink is not None:
        a = ink + a * (paper - ink) / 255.0
    a = np.clip(a * shade, 0, 255).astype(np.uint8)
    g = Image.fromarray(a, "L")
    return Image.merge("RGBA", [g, g, g, Image.new("L", card.size, 255)])


def perspective(rgba, rng, deg):
    """Turns the card deg degrees out of plane about an axis at a random angle
    in its plane, seen by a pinhole camera 1.6 card widths away."""
    w, h = rgba.size
    axis = rng.uniform(0, math.pi)
    t = math.radians(deg)
    f = 1.6 * max(w, h)
    ax, ay = math.cos(axis), math.sin(axis)
    pts = []
    for x, y in ((0, 0), (w, 0), (w, h), (0, h)):
        cx, cy = x - w / 2, y - h / 2
        # Rotate about the in-plane axis (ax, ay): the component across the
        # axis tilts into depth.
        along = cx * ax + cy * ay
        across = -cx * ay + cy * ax
        z = across * math.sin(t)
        across *= math.cos(t)
        X = along * ax - across * ay
        Y = along * ay + across * ax
        pts.append((f * X / (f + z), f * Y / (f + z)))
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    ow, oh = int(max(xs) - min(xs)) + 2, int(max(ys) - min(ys)) + 2
    dst = [(x - min(xs) + 1, y - min(ys) + 1) for x, y in pts]
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    A, b = [], []
    for (u, v), (x, y) in zip(dst, src):
        A.append([u, v, 1, 0, 0, 0, -x * u, -x * v])
        A.append([0, 0, 0, u, v, 1, -y * u, -y * v])
        b += [x, y]
    coeffs = np.linalg.solve(np.array(A, dtype=np.float64), np.array(b, dtype=np.float64))
    return rgba.transform((ow, oh), Image.PERSPECTIVE, tuple(coeffs), Image.BICUBIC)


def remap_columns(arr, src_x):
    """out[:, u] = arr[:, src_x[u]] with linear interpolation between columns."""
    x0 = np.clip(np.floor(src_x).astype(int), 0, arr.shape[1] - 1)
    x1 = np.clip(x0 + 1, 0, arr.shape[1] - 1)
    fx = (src_x - np.floor(src_x))[None, :, None]
    return arr[:, x0] * (1 - fx) + arr[:, x1] * fx


def curve(rgba, rng):
    """A bib pinned on a torso: wrapped on a vertical cylinder (foreshortened
    and darker towards its sides) and/or folded along a vertical crease
    (the part beyond turned away: narrower and shaded)."""
    arr = np.asarray(rgba, dtype=np.float32)
    h, w = arr.shape[:2]
    kind = rng.choice(["cylinder", "fold", "both"])
    if kind in ("cylinder", "both"):
        # Half-angle the card covers on the cylinder: 15-40 degrees (a bib
        # 20 cm wide on a torso of 15 cm radius covers 38).
        half = math.radians(rng.uniform(15, 40))
        r = (w / 2) / half
        ow = int(2 * r * math.sin(half))
        u = np.arange(ow) + 0.5 - ow / 2
        theta = np.arcsin(np.clip(u / r, -1, 1))
        src = theta * r + w / 2 - 0.5
        out = remap_columns(arr, src)
        light = (0.55 + 0.45 * np.cos(theta))[None, :]
        out[..., :3] *= light[..., None]
        arr, w = out, ow
    if kind in ("fold", "both"):
        xf = int(w * rng.uniform(0.3, 0.7))
        squeeze = rng.uniform(0.7, 0.95)
        shade = rng.uniform(0.7, 0.9)
        tail = int((w - xf) * squeeze)
        src = np.concatenate([np.arange(xf) + 0.0, xf + (np.arange(tail) + 0.5) / squeeze - 0.5])
        out = remap_columns(arr, src)
        out[:, xf:, :3] *= shade
        arr = out
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGBA")
    # A little sag: the card hangs from its pins.
    return img.rotate(rng.uniform(-8, 8), resample=Image.BICUBIC, expand=True), kind


def motion_blur(rgba, length, angle):
    pad = int(length) + 2
    arr = np.asarray(rgba, dtype=np.float32)
    arr = np.pad(arr, ((pad, pad), (pad, pad), (0, 0)))
    n = max(2, int(round(length)))
    acc = np.zeros_like(arr)
    for i in range(n):
        t = i / (n - 1) - 0.5
        dx, dy = int(round(t * length * math.cos(angle))), int(round(t * length * math.sin(angle)))
        acc += np.roll(arr, (dy, dx), axis=(0, 1))
    acc /= n
    return Image.fromarray(np.clip(acc, 0, 255).astype(np.uint8), "RGBA")


def glare(rgba, rng):
    arr = np.asarray(rgba, dtype=np.float32)
    h, w = arr.shape[:2]
    cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    s = rng.uniform(0.15, 0.35) * max(w, h)
    yy, xx = np.mgrid[0:h, 0:w]
    g = rng.uniform(0.35, 0.65) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    arr[..., :3] += (255 - arr[..., :3]) * g[..., None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGBA")


# --- scenes ----------------------------------------------------------------

def place(rng, scene, rgba, placed):
    W, H = scene.size
    cw, ch = rgba.size
    if cw >= W or ch >= H:
        return None
    for _ in range(80):
        x, y = rng.randrange(0, W - cw), rng.randrange(0, H - ch)
        if all(x + cw < px or px + pw < x or y + ch < py or py + ph < y
               for px, py, pw, ph in placed):
            placed.append((x, y, cw, ch))
            scene.paste(rgba, (x, y), rgba)
            return x, y
    return None


def distractors(rng, scene, n):
    W, H = scene.size
    d = ImageDraw.Draw(scene)
    for _ in range(n):
        kind = rng.choice(["text", "stripes", "logo", "checks"])
        s = max(W, H) / 6000
        x, y = rng.randrange(0, max(1, W - int(900 * s))), rng.randrange(0, max(1, H - int(500 * s)))
        fg = tuple(rng.randrange(0, 256) for _ in range(3))
        bg = tuple(255 - c for c in fg)
        if kind == "text":
            font = ImageFont.truetype(FONT, max(8, int(rng.randrange(60, 220) * s)))
            words = rng.choice(["SPORTFUEL", "RUN CITY 10K", "AQUA+", "FINISH", "KM 21",
                                "Bank of Running", "HYDRATE", "42.195", "START 07:30"])
            box = d.textbbox((x, y), words, font=font)
            d.rectangle((box[0] - 10, box[1] - 10, box[2] + 10, box[3] + 10), fill=bg)
            d.text((x, y), words, fill=fg, font=font)
        elif kind == "stripes":
            period = max(2, int(rng.randrange(6, 40) * s))
            w, h = int(rng.randrange(200, 900) * s), int(rng.randrange(200, 500) * s)
            for i in range(0, w, period):
                d.rectangle((x + i, y, x + i + period // 2, y + h), fill=fg)
        elif kind == "logo":
            r = int(rng.randrange(60, 200) * s) + 4
            d.ellipse((x, y, x + 2 * r, y + 2 * r), fill=fg)
            d.ellipse((x + r // 2, y + r // 2, x + r + r // 2, y + r + r // 2), fill=bg)
        else:
            c = max(2, int(rng.randrange(8, 40) * s))
            n_ = rng.randrange(4, 12)
            for i in range(n_):
                for j in range(n_):
                    if (i + j) % 2:
                        d.rectangle((x + i * c, y + j * c, x + (i + 1) * c - 1, y + (j + 1) * c - 1),
                                    fill=fg)


NOISE = 1024
_noise = None


def noise_tile():
    """NOISE x NOISE x 3 unit noise (luma + 0.4 chroma), made once per process;
    each photo takes it shifted (drawing 36 M normals per 12 MP photo would
    dominate the generation time)."""
    global _noise
    if _noise is None:
        g = np.random.default_rng(4242)
        _noise = (g.standard_normal((NOISE, NOISE, 1), dtype=np.float32) +
                  g.standard_normal((NOISE, NOISE, 3), dtype=np.float32) * 0.4)
    return _noise


def finish(rng, scene, sigma, quality, darken=1.0):
    arr = np.asarray(scene, dtype=np.int16)
    if darken != 1.0:
        arr = (arr * darken).astype(np.int16)
    if sigma > 0:
        h, w = arr.shape[:2]
        tile = np.roll(noise_tile() * sigma, (rng.randrange(NOISE), rng.randrange(NOISE)),
                       axis=(0, 1)).astype(np.int16)
        arr += np.tile(tile, (h // NOISE + 1, w // NOISE + 1, 1))[:h, :w]
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def coded_photo(group, rng):
    """Returns (jpeg bytes, size, codes)."""
    w, h = rng.choice(SIZES)
    sigma, quality, darken = rng.uniform(2.0, 4.5), rng.randrange(85, 93), 1.0
    blur = rng.uniform(0.4, 0.9)
    ncards = rng.choices([1, 2, 3], weights=[50, 35, 15])[0]
    kinds = None
    if group == "closeup":
        w, h = rng.choice([(1600, 1200), (3000, 2000), (4000, 3000), (1200, 1600)])
        ncards = 1
    elif group == "small":
        longest = rng.randrange(200, 1001)
        aspect = rng.choice([1.0, 4 / 3, 3 / 2, 3 / 4])
        w, h = (longest, int(longest / aspect)) if aspect >= 1 else (int(longest * aspect), longest)
        ncards = 1
    elif group == "mixed":
        ncards = rng.choice([2, 3])
        kinds = ["qrcode", "code128"] + [rng.choice(["qrcode", "code128"])]
    elif group == "crowd":
        w, h = rng.choice([(3000, 2000), (4000, 3000)])
        ncards = rng.randrange(4, 9)
    elif group == "jpeg":
        quality = rng.randrange(40, 61)
    elif group == "noise":
        sigma = rng.uniform(10, 22)
    scene = background(rng, w, h)
    distractors(rng, scene, rng.randrange(0, 4))
    placed, codes, used = [], [], set()
    low = group == "lowcontrast" and rng.choice(["grey", "dim", "glare"])
    if low == "dim":
        darken = rng.uniform(0.3, 0.55)
    for i in range(ncards):
        kind = kinds[i] if kinds and i < len(kinds) else ("qrcode" if rng.random() < 0.6 else
                                                          "code128")
        number, payload = new_payload(rng, kind, used)
        # Module size: what the group calls for, the 24 MP corpus's 3-12 px
        # scaled to the frame otherwise.
        scale = max(w, h) / 6000
        if group == "closeup":
            cw_, ch_ = code_size(kind, payload, 1)
            lo = max(20, 0.2 * h / ch_) if kind == "qrcode" else max(6, 0.2 * h / ch_)
            hi = min(80, 0.9 * h / ch_, 0.9 * w / cw_)
            m = rng.uniform(lo, max(lo, hi)) if kind == "qrcode" else rng.uniform(lo, max(lo, hi))
        elif group == "small":
            cw_, ch_ = code_size(kind, payload, 1)
            hi = min(8, 0.8 * w / cw_, 0.8 * h / ch_)
            lo = min(2.5, hi) if kind == "qrcode" else min(2.0, hi)
            m = rng.uniform(lo, hi)
        elif group == "crowd":
            m = rng.uniform(3, 8)
        elif group == "blur":
            m = rng.uniform(5, 12)
        else:
            m = rng.uniform(3, 10) * max(1.0, min(2.0, scale * 1.8))
        for attempt in range(8):
            # Drawn at an integer module, then resized to the fractional one.
            mi = max(1, int(math.ceil(m)))
            if group == "closeup":
                # The runner fills the frame: the number is above it, the code
                # and a rim of the bib are what the camera sees.
                code = code_image(kind, payload, mi)
                card = Image.new("L", (code.width + 2 * mi, code.height + 2 * mi), 250)
                card.paste(code, (mi, mi))
            else:
                card = bib_card(rng, kind, number, payload, mi)
            if mi != m:
                card = card.resize((max(1, round(card.width * m / mi)), max(1, round(card.height * m / mi))),
                                   Image.LANCZOS)
            shade = rng.uniform(0.8, 1.0)
            if low == "grey":
                ink, paper = rng.uniform(90, 140), rng.uniform(215, 250)
                rgba = to_rgba(card, shade, ink, paper)
            else:
                rgba = to_rgba(card, shade)
            angle = rng.uniform(0, 360) if group == "rotation" else rng.uniform(-10, 10) if group == "closeup" else rng.uniform(-20, 20)
            rgba = rgba.rotate(angle, resample=Image.BICUBIC, expand=True)
            info = {"code": str(number), "symbology": kind, "module": round(m, 2),
                    "angle": round(angle, 1), "payload": payload}
            if group == "perspective":
                deg = rng.uniform(15, 45)
                rgba = perspective(rgba, rng, deg)
                info["tilt"] = round(deg, 1)
            elif group == "curvature":
                rgba, info["curve"] = curve(rgba, rng)
            elif group == "lowcontrast" and low == "glare":
                rgba = glare(rgba, rng)
            if group == "blur":
                if rng.random() < 0.5:
                    length = rng.uniform(0.5, 1.0) * m
                    rgba = motion_blur(rgba, length, rng.uniform(0, math.pi))
                    info["motion"] = round(length, 1)
                else:
                    sig = rng.uniform(0.2, 0.4) * m
                    rgba = rgba.filter(ImageFilter.GaussianBlur(sig))
                    info["defocus"] = round(sig, 1)
            else:
                rgba = rgba.filter(ImageFilter.GaussianBlur(blur * (m / mi if group == "small" else 1)))
            at = place(rng, scene, rgba, placed)
            if at is not None:
                break
            # Too big for the frame (or no free room): a smaller bib.
            m *= 0.85
        if at is None:
            continue
        info["box"] = [at[0], at[1], rgba.width, rgba.height]
        if group == "quietzone":
            cover(rng, scene, info, kind, m, card.size, at, rgba.size, angle)
        codes.append(info)
    if low:
        for c in codes:
            c["low"] = low
    return finish(rng, scene, sigma, quality, darken), (w, h), codes


def cover(rng, scene, info, kind, m, card_size, at, rot_size, angle):
    """Dark shapes (an arm, a pin, a jacket edge) reaching into the code's
    quiet zone from one or two sides, up to 1.5 modules from the symbol for
    Code 128 (2 for QR Code's finder side)."""
    d = ImageDraw.Draw(scene)
    x, y = at
    rw, rh = rot_size
    cx, cy = x + rw / 2, y + rh / 2
    # Where the code sits in the card (bib_card's layout, drawn at an
    # integer module mi and resized by m / mi).
    mi = max(1, int(math.ceil(m)))
    k = m / mi
    code = code_image(kind, info["payload"], mi)
    pad = max(2 * mi, 12)
    text_h = int(max(60, code.size[0] * 0.35))
    code_w, code_h = code.size[0] * k, code.size[1] * k
    ox, oy = 0, (text_h + pad) / 2 * k  # code centre relative to the card centre
    quiet = (10 if kind == "code128" else 4) * m
    keep = (1.5 if kind == "code128" else 2.0) * m
    reach = quiet - keep  # how far into the quiet zone the object comes
    a = math.radians(-angle)

    def rot(px, py):
        return (cx + px * math.cos(a) - py * math.sin(a), cy + px * math.sin(a) + py * math.cos(a))
    sides = rng.sample(["left", "right", "top", "bottom"], rng.choice([1, 2]))
    colour = tuple(rng.randrange(10, 90) for _ in range(3))
    for side in sides:
        hw, hh = code_w / 2, code_h / 2
        if side in ("left", "right"):
            sgn = -1 if side == "left" else 1
            inner = sgn * (hw - reach)
            outer = sgn * (hw + 6 * m + 40)
            span = rng.uniform(0.3, 0.8) * hh
            poly = [(inner, oy - span), (outer, oy - span), (outer, oy + span), (inner, oy + span)]
        else:
            sgn = -1 if side == "top" else 1
            # Bars run the code's full height: only a code's quiet zone
            # matters across bars, so for Code 128 this is cover, not harm.
            inner = sgn * (hh - reach * 0.5)
            outer = sgn * (hh + 6 * m + 40)
            span = rng.uniform(0.3, 0.8) * hw
            poly = [(ox - span, oy + inner), (ox - span, oy + outer), (ox + span, oy + outer),
                    (ox + span, oy + inner)]
        d.polygon([rot(px, py) for px, py in poly], fill=colour)
    info["covered"] = sides


def nocode_photo(rng):
    """A photo without any code but with what could look like one."""
    if rng.random() < 0.25:
        longest = rng.randrange(200, 1001)
        w, h = longest, int(longest / rng.choice([1.0, 4 / 3, 3 / 2]))
    else:
        w, h = rng.choice(SIZES)
    scene = background(rng, w, h)
    d = ImageDraw.Draw(scene)
    s = max(w, h) / 6000
    features = rng.sample(["bibs", "text", "logos", "checks", "fence", "stripes", "barlike"],
                          rng.randrange(1, 4))
    for f in features:
        for _ in range(rng.randrange(1, 4)):
            x, y = rng.randrange(0, w), rng.randrange(0, h)
            fg = tuple(rng.randrange(0, 80) for _ in range(3))
            bg = tuple(rng.randrange(180, 256) for _ in range(3))
            if f == "bibs":
                # A race number without a code.
                tw = max(24, int(rng.randrange(300, 1200) * s))
                card = Image.new("RGB", (tw, int(tw * 0.7)), (250, 250, 250))
                cd = ImageDraw.Draw(card)
                font = ImageFont.truetype(FONT, max(8, int(tw * 0.3)))
                cd.text((tw // 2, int(tw * 0.35)), str(rng.randrange(1, 99999)), fill=(15, 15, 15),
                        font=font, anchor="mm")
                scene.paste(card.rotate(rng.uniform(-30, 30), expand=True, fillcolor=bg), (x, y))
            elif f == "text":
                font = ImageFont.truetype(FONT, max(8, int(rng.randrange(40, 250) * s)))
                words = rng.choice(["SPORTFUEL", "FINISH 2024", "Bank of Running", "KM 21",
                                    "12345", "0042", "RUN CITY", "||| III ||| I", "H2O", "WWW"])
                d.text((x, y), words, fill=fg, font=font)
            elif f == "logos":
                r = max(6, int(rng.randrange(80, 300) * s))
                d.rectangle((x, y, x + 3 * r, y + r), fill=bg)
                d.ellipse((x + 10, y + 10, x + r - 10, y + r - 10), fill=fg)
                font = ImageFont.truetype(FONT, max(8, r // 2))
                d.text((x + r, y + r // 4), rng.choice(["ACME", "ZOOM", "SPRINT"]), fill=fg, font=font)
            elif f == "checks":
                c = max(2, int(rng.randrange(6, 60) * s))
                n = rng.randrange(4, 20)
                for i in range(n):
                    for j in range(n):
                        d.rectangle((x + i * c, y + j * c, x + (i + 1) * c - 1, y + (j + 1) * c - 1),
                                    fill=fg if (i + j) % 2 else bg)
            elif f == "fence":
                period = max(3, int(rng.randrange(10, 120) * s))
                bar = max(1, int(period * rng.uniform(0.15, 0.5)))
                fw, fh = int(rng.randrange(500, 3000) * s) + 20, int(rng.randrange(300, 1500) * s) + 20
                for i in range(0, fw, period):
                    d.rectangle((x + i, y, x + i + bar, y + fh), fill=fg)
                d.rectangle((x, y + fh // 3, x + fw, y + fh // 3 + bar), fill=fg)
            elif f == "stripes":
                period = max(2, int(rng.randrange(6, 60) * s))
                sw_, sh_ = int(rng.randrange(300, 1500) * s) + 20, int(rng.randrange(200, 800) * s) + 20
                for i in range(0, sw_, period):
                    d.rectangle((x + i, y, x + i + period // 2, y + sh_), fill=fg)
            else:
                # Random bars of 1-4 units: the texture closest to a barcode.
                unit = max(1, int(rng.randrange(3, 12) * s * 2))
                bh = int(rng.randrange(100, 600) * s) + 10
                pos, bar = x, True
                for _ in range(rng.randrange(20, 90)):
                    wd = unit * rng.randrange(1, 5)
                    if bar:
                        d.rectangle((pos, y, pos + wd - 1, y + bh), fill=fg)
                    pos += wd
                    bar = not bar
    img = scene.rotate(rng.choice([0, 0, 90, rng.uniform(0, 360)]), expand=False)
    return finish(rng, img, rng.uniform(2, 12), rng.randrange(50, 93)), (w, h), features


def make(args):
    outdir, group, index, seed = args
    rng = random.Random("%d/%s/%d" % (seed, group, index))
    name = "%s_%03d.jpg" % (group, index)
    if group == "nocode":
        data, size, features = nocode_photo(rng)
        info = {"group": group, "size": list(size), "codes": [], "features": features}
    else:
        data, size, codes = coded_photo(group, rng)
        info = {"group": group, "size": list(size), "codes": codes}
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)
    return name, info


def main():
    outdir = sys.argv[1]
    per_group = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    nocode = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    os.makedirs(outdir, exist_ok=True)
    jobs = [(outdir, g, i, seed) for g in GROUPS for i in range(per_group)]
    jobs += [(outdir, "nocode", i, seed) for i in range(nocode)]
    truth = {}
    with multiprocessing.Pool(min(2, os.cpu_count() or 1)) as pool:
        for name, info in pool.imap_unordered(make, jobs, chunksize=8):
            truth[name] = info
    print("conditions: %d photos in %s" % (len(truth), outdir), file=sys.stderr)
    with open(os.path.join(outdir, "truth.json"), "w") as f:
        json.dump({"pattern": PATTERN, "seed": seed, "per_group": per_group, "nocode": nocode,
                   "photos": dict(sorted(truth.items()))}, f, indent=1)


if __name__ == "__main__":
    main()
