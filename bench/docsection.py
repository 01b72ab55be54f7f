"""Writes one marked section of docs/benchmarks.md, leaving the others alone.

Each benchmark owns the text between its begin and end markers; a rerun
replaces only that. A section not in the file yet goes after the `after`
marker when there is one, else at the end.
"""
import os


def write(path, begin, end, section, after=None):
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    body = section.rstrip("\n")
    if begin in text and end in text:
        text = text[:text.index(begin)] + body + text[text.index(end) + len(end):]
    elif after and after in text:
        i = text.index(after) + len(after)
        text = text[:i] + "\n\n" + body + text[i:]
    else:
        text = (text or "# Benchmarks\n\n").rstrip("\n") + "\n\n" + body + "\n"
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
