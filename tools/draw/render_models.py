#!/usr/bin/env python3
"""The browser check of `cnnc draw` (issue #19): draws every model in models/ and
models/torchvision/, renders each picture with headless Chromium and checks that the
screenshot is not blank: several colours, and a share of pixels that are not background.

usage: tools/draw/render_models.py CNNC [CHROMIUM]

CNNC is the built cnnc; CHROMIUM defaults to chromium-headless-shell or chromium on PATH.
Screenshots are of the picture's full width and its first HEIGHT pixels (enough to see
boxes, captions and arrows), two at a time, each given TIMEOUT seconds.
"""
import concurrent.futures
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HEIGHT = 900
TIMEOUT = 60
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def png_pixels(data):
    """(width, height, rows of RGBA tuples) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    offset, header, compressed = 8, None, b""
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    channels = 4 if colour == 6 else 3
    raw = zlib.decompress(compressed)
    stride = width * channels
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
        elif kind != 0:
            raise ValueError(f"unknown filter {kind} on row {y}")
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def check_png(path):
    """None when the screenshot shows a picture, else what is wrong."""
    with open(path, "rb") as f:
        width, height, channels, rows = png_pixels(f.read())
    counts = {}
    for row in rows:
        for x in range(0, len(row), channels):
            pixel = row[x:x + channels]
            counts[pixel] = counts.get(pixel, 0) + 1
    drawn = 1 - max(counts.values()) / (width * height)
    if len(counts) < 20 or drawn < 0.02:
        return f"looks blank: {len(counts)} colours, {drawn:.1%} of the pixels drawn"
    return None


def render(browser, svg, png, profile):
    with open(svg, encoding="utf-8") as f:
        root = re.search(r'<svg[^>]* width="([0-9.]+)" height="([0-9.]+)"', f.read(4096))
    width, height = int(float(root.group(1)) + 1), min(HEIGHT, int(float(root.group(2)) + 1))
    result = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--user-data-dir=" + profile, f"--window-size={width},{height}",
                             "--screenshot=" + png, "file://" + os.path.abspath(svg)],
                            capture_output=True, text=True, timeout=TIMEOUT)
    if result.returncode != 0 or not os.path.exists(png):
        return f"{browser} failed ({result.returncode}): {result.stderr[-400:]}"
    return check_png(png)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    cnnc = sys.argv[1]
    browser = sys.argv[2] if len(sys.argv) == 3 else (shutil.which("chromium-headless-shell") or shutil.which("chromium"))
    if not browser:
        sys.exit("render_models: no chromium-headless-shell or chromium on PATH")
    models = sorted(glob.glob(os.path.join(ROOT, "models", "*.cnn"))) + \
        sorted(glob.glob(os.path.join(ROOT, "models", "torchvision", "*.cnn")))
    failures = []
    with tempfile.TemporaryDirectory(prefix="cnnc-draw-") as out:
        jobs = []
        for model in models:
            name = os.path.relpath(model, os.path.join(ROOT, "models"))[:-len(".cnn")].replace(os.sep, "-")
            svg, png = os.path.join(out, name + ".svg"), os.path.join(out, name + ".png")
            drawn = subprocess.run([cnnc, "draw", model, "-o", svg], capture_output=True, text=True)
            if drawn.returncode != 0:
                failures.append(f"{name}: cnnc draw failed: {drawn.stderr[-400:]}")
                continue
            jobs.append((name, svg, png, os.path.join(out, "profile-" + name)))
        # Processes, not threads: decoding a PNG in Python holds the interpreter lock.
        with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
            results = pool.map(render, [browser] * len(jobs), *zip(*[job[1:] for job in jobs]))
            for (name, *_), problem in zip(jobs, results):
                if problem:
                    failures.append(f"{name}: {problem}")
    for failure in failures:
        print("render_models: " + failure, file=sys.stderr)
    print(f"render_models: {len(models) - len(failures)} of {len(models)} pictures rendered and not blank")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
