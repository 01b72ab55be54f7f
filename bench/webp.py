#!/usr/bin/python3
"""What the WebP variants cost and save: photofinish process over the same
photos with --webp 0 and --webp 1 (one worker, rounds alternated so machine
load falls on both alike), with the bench's overlay. Prints, per photo, the
extra time (total with WebP minus total without, medians of the rounds) and
the in-process WebP encode time, and the bytes of both variants in both
formats (the bytes do not vary between rounds), plus the weight of a page
of 48 thumbnails. docs/image-pipeline.md quotes its output.

With --grid, instead: the quality/effort trade-off the settings were chosen
on. The variants are made at JPEG quality 100 (the reference), then encoded
in this process with Pillow (the same system libwebp and libjpeg as libvips)
as JPEG at 82 and as WebP at several qualities and efforts: bytes, encode
time (best of 3) and luma PSNR and SSIM (8 x 8 blocks) against the reference.

Usage: bench/webp.py --bin build/photofinish --corpus DIR [--photos 24] [--rounds 3] [--grid]
  DIR: photos made by bench/corpus.py (24 MP by default).
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import make_logo  # noqa: E402


def run(binary, files, webp, logo, out):
    cmd = [binary, "process", "--workers", "1", "--webp", str(webp), "--overlay", logo,
           "-o", out] + files
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    lines = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    bad = [r for r in lines if "error" in r]
    if p.returncode or bad or len(lines) != len(files):
        sys.exit("bench/webp.py: photofinish process failed: %s" % (bad or p.returncode))
    return {r["file"]: r for r in lines}


def luma(rgb):
    import numpy as np

    a = np.asarray(rgb, dtype=np.float64)
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def psnr(x, y):
    import numpy as np

    return 10 * np.log10(255.0 ** 2 / ((x - y) ** 2).mean())


def block_ssim(x, y):
    """SSIM over 8 x 8 blocks (no window smoothing), averaged."""
    h, w = x.shape[0] // 8 * 8, x.shape[1] // 8 * 8
    x = x[:h, :w].reshape(h // 8, 8, w // 8, 8)
    y = y[:h, :w].reshape(h // 8, 8, w // 8, 8)
    mx, my = x.mean((1, 3)), y.mean((1, 3))
    dx, dy = x - mx[:, None, :, None], y - my[:, None, :, None]
    vx, vy, cxy = (dx * dx).mean((1, 3)), (dy * dy).mean((1, 3)), (dx * dy).mean((1, 3))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float((((2 * mx * my + c1) * (2 * cxy + c2)) /
                  ((mx * mx + my * my + c1) * (vx + vy + c2))).mean())


def grid(args, files, tmp, logo):
    import io

    from PIL import Image

    subprocess.run([args.bin, "process", "--workers", "1", "--jpeg-quality", "100",
                    "--overlay", logo, "-o", tmp] + files, stdout=subprocess.DEVNULL, check=True)
    configs = [("JPEG", 82, None)] + [("WEBP", q, e) for q in (75, 80, 85) for e in (0, 2, 4, 6)]
    for kind in ("thumb", "full"):
        refs = [Image.open(p).convert("RGB")
                for p in sorted(glob.glob(os.path.join(tmp, "*.%s.jpg" % kind)))]
        lum = [luma(r) for r in refs]
        for fmt, q, e in configs:
            size = secs = 0.0
            ss, ps = [], []
            for ref, ly in zip(refs, lum):
                best = None
                for _ in range(3):
                    buf = io.BytesIO()
                    t = time.perf_counter()
                    if fmt == "JPEG":
                        ref.save(buf, "JPEG", quality=q, optimize=True, progressive=kind == "full")
                    else:
                        ref.save(buf, "WEBP", quality=q, method=e)
                    d = time.perf_counter() - t
                    best = d if best is None else min(best, d)
                secs += best
                size += buf.tell()
                got = luma(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
                ss.append(block_ssim(ly, got))
                ps.append(psnr(ly, got))
            n = len(refs)
            print("| %s | %s Q%d%s | %.1f KiB | %.1f ms | %.2f dB | %.4f |"
                  % (kind, fmt, q, "" if e is None else " effort %d" % e, size / n / 1024,
                     1000 * secs / n, statistics.mean(ps), statistics.mean(ss)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--grid", action="store_true")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.corpus, "*.jpg")))[: args.photos]
    if not files:
        sys.exit("bench/webp.py: no photos in %s" % args.corpus)
    tmp = tempfile.mkdtemp(prefix="pf-webp-bench-")
    logo = os.path.join(tmp, "logo.png")
    make_logo(logo)
    if args.grid:
        grid(args, files, tmp, logo)
        return
    runs = {0: [], 1: []}
    load = []
    for r in range(args.rounds):
        for webp in ((0, 1) if r % 2 == 0 else (1, 0)):
            runs[webp].append(run(args.bin, files, webp, logo, tmp))
            load.append(os.getloadavg()[0])

    def median_of(webp, f, key):
        return statistics.median(res[f]["ms"].get(key, 0.0) for res in runs[webp])

    extra = [median_of(1, f, "total") - median_of(0, f, "total") for f in files]
    encode = [median_of(1, f, "webp") for f in files]
    base = [median_of(0, f, "total") for f in files]
    last = runs[1][-1]
    b = {k: [last[f]["bytes"][k] for f in files] for k in ("full", "thumb", "fullWebp", "thumbWebp")}
    mean = statistics.mean
    print("photos: %d (%s), rounds: %d, load average during the runs: %.1f-%.1f"
          % (len(files), args.corpus, args.rounds, min(load), max(load)))
    print("total per photo without WebP: median %.0f ms, mean %.0f ms"
          % (statistics.median(base), mean(base)))
    print("extra per photo with WebP (total with - without): median %.0f ms, mean %.0f ms (+%.0f %%)"
          % (statistics.median(extra), mean(extra), 100.0 * mean(extra) / mean(base)))
    print("WebP encodes in the pipeline (both variants): median %.0f ms, mean %.0f ms"
          % (statistics.median(encode), mean(encode)))
    for label, jpeg, webp in (("thumbnail", "thumb", "thumbWebp"), ("fullsize", "full", "fullWebp")):
        j, w = mean(b[jpeg]), mean(b[webp])
        ratios = sorted(b[webp][i] / b[jpeg][i] for i in range(len(files)))
        print("%s: JPEG %.1f KiB, WebP %.1f KiB per photo (mean): %.0f %% smaller "
              "(per photo %.0f-%.0f %%)" % (label, j / 1024, w / 1024, 100 * (1 - w / j),
                                            100 * (1 - ratios[-1]), 100 * (1 - ratios[0])))
    print("48 thumbnails (a page): JPEG %.0f KiB, WebP %.0f KiB"
          % (48 * mean(b["thumb"]) / 1024, 48 * mean(b["thumbWebp"]) / 1024))


if __name__ == "__main__":
    main()
