#!/usr/bin/python3
"""Detection by condition group: photofinish, the Python reference
(bench/reference.py: zbar on the full-resolution frame) and zbar on the whole
frame as bench/wholeframe.py defines it, on the same images in the same run.
Groups: the condition corpus (bench/conditions.py) and the real photos in
../shared/testdata/real-codes (when present). Writes the detection section of
docs/benchmarks.md and warns when photofinish misses a code that whole-frame
zbar reads, reads a false code, or falls below 0.95 in a group (--strict:
exits non-zero then).

Usage: bench/groups.py --bin build/photofinish --conditions bench/conditions
                       [--real ../shared/testdata/real-codes] --out bench/out
                       --docs docs/benchmarks.md [--no-reference] [--strict]
                       [--groups blur,noise,nocode]

--groups: only those groups (real photos: "real"), for a quick look while
tuning; the table is printed, docs/benchmarks.md is left alone.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

import docsection

HERE = os.path.dirname(os.path.abspath(__file__))
BEGIN, END = "<!-- detection:begin -->", "<!-- detection:end -->"
# Real photos carry arbitrary payloads: the code is the first run of code
# characters (testdata README); compared with the same capture of the .txt.
REAL_PATTERN = "([A-Za-z0-9_.-]{1,64})"
REAL_GROUPS = ["qrcode-2", "code128-2", "falsepositives-1"]
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff")
RECALL_MIN = 0.95


def run_lines(label, cmd, chunk=200):
    """Runs cmd over its file arguments in chunks (argument lists stay short);
    returns {file: json line}, wall seconds and CPU seconds of the children."""
    head, files = cmd
    out, wall, cpu = {}, 0.0, 0.0
    for i in range(0, len(files), chunk):
        part = files[i:i + chunk]
        t0 = time.monotonic()
        p = subprocess.Popen(head + part, stdout=subprocess.PIPE, text=True)
        for line in p.stdout:
            r = json.loads(line)
            out[r["file"]] = r
        _, status, usage = os.wait4(p.pid, 0)
        wall += time.monotonic() - t0
        cpu += usage.ru_utime + usage.ru_stime
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            raise SystemExit("groups: %s exited with %d" % (label, code))
    print("groups: %s: %d images, %.1f s" % (label, len(out), wall), file=sys.stderr)
    return out, wall, cpu


def real_truth(root):
    """{path: (group, expected codes)} for the real photos."""
    pat = re.compile(REAL_PATTERN)
    truth = {}
    for g in REAL_GROUPS:
        d = os.path.join(root, g)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.lower().endswith(IMAGE_EXT):
                continue
            path = os.path.join(d, name)
            txt = os.path.splitext(path)[0] + ".txt"
            want = set()
            if os.path.exists(txt):
                with open(txt, encoding="utf-8", errors="replace") as f:
                    m = pat.search(f.read().strip())
                if m:
                    want = {m.group(1).upper()}
                elif g != "falsepositives-1":
                    continue  # a payload without code characters: no code to compare
            truth[path] = ("real " + g, want)
    return truth


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--conditions", required=True)
    ap.add_argument("--real")
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--groups", help="comma-separated subset; docs are not written")
    args = ap.parse_args()
    only = set(args.groups.split(",")) if args.groups else None

    with open(os.path.join(args.conditions, "truth.json")) as f:
        ctruth = json.load(f)
    # (group, expected codes, pattern) per image. Photos without codes are
    # read without a pattern: any payload that is a valid code is a false code.
    images = {}
    for name, info in ctruth["photos"].items():
        path = os.path.join(args.conditions, name)
        images[path] = (info["group"], {c["code"] for c in info["codes"]},
                        ctruth["pattern"] if info["codes"] or info["group"] != "nocode" else None)
    if args.real and os.path.isdir(args.real) and (only is None or "real" in only):
        for path, (g, want) in real_truth(args.real).items():
            images[path] = (g, want, REAL_PATTERN if want else None)
    if only is not None:
        images = {p: v for p, v in images.items() if v[0] in only or
                  (v[0].startswith("real ") and "real" in only)}
    by_pattern = collections.defaultdict(list)
    for path, (_, _, pat) in images.items():
        by_pattern[pat].append(path)

    os.makedirs(os.path.join(args.out, "groups-pf"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "groups-ref"), exist_ok=True)
    pf, ref, wf = {}, {}, {}
    cost = collections.Counter()
    for pat, files in sorted(by_pattern.items(), key=lambda kv: kv[0] or ""):
        popt = ["--code-pattern", pat] if pat else []
        r, wall, cpu = run_lines("photofinish", (
            [args.bin, "process", "--workers", "1", "-o", os.path.join(args.out, "groups-pf")] +
            popt, files))
        pf.update(r)
        cost["pf wall"] += wall
        cost["pf cpu"] += cpu
        if not args.no_reference:
            r, wall, cpu = run_lines("reference", (
                [sys.executable, os.path.join(HERE, "reference.py"), "-o",
                 os.path.join(args.out, "groups-ref")] + popt, files))
            ref.update(r)
            cost["ref wall"] += wall
        r, wall, cpu = run_lines("zbar whole frame", (
            [sys.executable, os.path.join(HERE, "wholeframe.py")] + popt, files))
        wf.update(r)
        cost["wf wall"] += wall

    rows = collections.OrderedDict()
    misses, false_codes, errors = [], [], []
    scan_ms = collections.defaultdict(list)
    for path in sorted(images, key=lambda p: (images[p][0], p)):
        group, want, _ = images[path]
        row = rows.setdefault(group, collections.Counter())
        got = set(pf.get(path, {}).get("codes", []))
        if "error" in pf.get(path, {"error": "missing"}):
            errors.append((path, pf.get(path, {}).get("error")))
        z = set(wf.get(path, {}).get("codes", []))
        rf = set(ref.get(path, {}).get("codes", []))
        row["photos"] += 1
        row["codes"] += len(want)
        row["pf"] += len(want & got)
        row["ref"] += len(want & rf)
        row["wf"] += len(want & z)
        row["pf false"] += len(got - want)
        row["ref false"] += len(rf - want)
        row["wf false"] += len(z - want)
        if "ms" in pf.get(path, {}):
            scan_ms[group].append(pf[path]["ms"]["scan"])
        # The property: what zbar reads on the whole frame, photofinish reads.
        for c in sorted((z & want) - got):
            misses.append((group, os.path.relpath(path), c))
        for c in sorted(got - want):
            false_codes.append((group, os.path.relpath(path), c))

    def recall(r, k):
        return r[k] / r["codes"] if r["codes"] else float("nan")

    nocode_photos = sum(1 for _, want, _ in images.values() if not want)
    lines = [BEGIN, "## Detection by condition", "",
             "Written by `make bench` (bench/groups.py) on %s. Same images, same run: "
             "**photofinish** (`photofinish process`, 1 worker), the **reference** "
             "(bench/reference.py: zbar on the full-resolution frame) and **zbar, whole "
             "frame** (bench/wholeframe.py: zbar on the whole frame at its original size up "
             "to 2.2 MP, at 1/4 and 1/8 of its width and height above). Condition corpus: "
             "bench/conditions.py, seed %d, %d photos per group, %d photos without a code "
             "(read without a code pattern, so any payload that is a valid code counts as "
             "false). Real photos: ../shared/testdata/real-codes (zxing-cpp test samples, "
             "Apache-2.0), first run of code characters compared." %
             (time.strftime("%Y-%m-%d"), ctruth.get("seed", 1), ctruth.get("per_group", 0),
              ctruth.get("nocode", 0)) +
             " Only some groups, for a quick look (the table is printed, this section is "
             "left alone): `bench/groups.py --bin build/photofinish --conditions "
             "bench/conditions --out bench/out --docs docs/benchmarks.md --no-reference "
             "--groups blur,noise,nocode` after one `make bench` (or `bench/conditions.py "
             "bench/conditions 20 200 1`) has made the corpus.",
             "", "| group | photos | codes | photofinish | reference | zbar, whole frame | "
             "false codes (pf / ref / zbar) | scan ms, median (max) |",
             "|---|---|---|---|---|---|---|---|"]
    for g, r in rows.items():
        ms = sorted(scan_ms[g])
        med = "%.0f (%.0f)" % (ms[len(ms) // 2], ms[-1]) if ms else "-"
        if r["codes"]:
            lines.append("| %s | %d | %d | %.3f | %s | %.3f | %d / %s / %d | %s |" % (
                g, r["photos"], r["codes"], recall(r, "pf"),
                "%.3f" % recall(r, "ref") if ref else "n/a", recall(r, "wf"), r["pf false"],
                r["ref false"] if ref else "n/a", r["wf false"], med))
        else:
            lines.append("| %s | %d | 0 | - | - | - | %d / %s / %d | %s |" % (
                g, r["photos"], r["pf false"], r["ref false"] if ref else "n/a",
                r["wf false"], med))
    synth = [r for g, r in rows.items() if not g.startswith("real ")]
    low = [g for g, r in rows.items() if not g.startswith("real ") and r["codes"] and
           recall(r, "pf") < RECALL_MIN]
    lines += ["", "Photos without any code: %d (%d in the condition corpus); false codes "
              "from photofinish over all photos: **%d**. Codes whole-frame zbar reads that "
              "photofinish misses: **%d**%s. Synthetic groups below %.2f: %s. Time for the "
              "whole set (wall, same machine, same run): photofinish %.0f s, reference %s, "
              "whole-frame zbar %.0f s." %
              (nocode_photos, sum(r["photos"] for r in synth if not r["codes"]),
               len(false_codes), len(misses),
               "" if not misses else " (" + "; ".join("%s %s: %s" % m for m in misses) + ")",
               RECALL_MIN, ", ".join(low) or "none", cost["pf wall"],
               "%.0f s" % cost["ref wall"] if ref else "n/a", cost["wf wall"])]
    if false_codes:
        lines += ["", "False codes: " + "; ".join("%s %s: %s" % f for f in false_codes) + "."]
    if errors:
        lines += ["", "Refused: " + "; ".join("%s: %s" % (os.path.relpath(p), e)
                                              for p, e in errors) + "."]
    lines += ["", END]
    section = "\n".join(lines) + "\n"
    if only is None:
        docsection.write(args.docs, BEGIN, END, section, after="<!-- pipeline:end -->")
    print(section)
    with open(os.path.join(args.out, "groups.json"), "w") as f:
        json.dump({"rows": rows, "misses": misses, "false": false_codes,
                   "pf": pf, "ref": ref, "wf": wf}, f, indent=1)
    if misses or false_codes or low:
        print("groups: WARNING: %d missed whole-frame codes, %d false codes, groups below %.2f: %s"
              % (len(misses), len(false_codes), RECALL_MIN, ", ".join(low) or "none"),
              file=sys.stderr)
        return 1 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
