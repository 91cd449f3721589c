#!/usr/bin/env python3
"""Writes Tests/Fixtures/png/: small PNGs made with Python's zlib (an encoder independent of
the Swift decoder in Tests/TestSupport/PNGImage.swift), every row filter and all three kinds
of DEFLATE block. Pixel (x, y) is (30x, 40y, 10(x+y), 255 - x) mod 256; the tests compute the
same formula."""
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "png")


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pixel(x, y):
    return ((x * 30) % 256, (y * 40) % 256, ((x + y) * 10) % 256, 255 - x)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def png(width, height, compress, channels):
    raw = bytearray()
    previous = bytes(width * channels)
    for y in range(height):
        row = bytes(v for x in range(width) for v in pixel(x, y)[:channels])
        kind = y % 5  # filters 0-4 in turn
        filtered = bytearray()
        for i, value in enumerate(row):
            a = row[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            predicted = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            filtered.append((value - predicted) % 256)
        raw += bytes([kind]) + filtered
        previous = row
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if channels == 4 else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", compress(bytes(raw))) + chunk(b"IEND", b"")


def fixed(data):
    encoder = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_FIXED)
    return encoder.compress(data) + encoder.flush()


os.makedirs(OUT, exist_ok=True)
files = {
    "gradient-rgba-level9.png": png(64, 48, lambda d: zlib.compress(d, 9), 4),  # dynamic Huffman
    "gradient-rgba-stored.png": png(64, 48, lambda d: zlib.compress(d, 0), 4),  # stored blocks
    "gradient-rgb-level1.png": png(40, 30, lambda d: zlib.compress(d, 1), 3),
    "tiny-rgb-fixed.png": png(3, 2, fixed, 3),  # fixed Huffman
}
for name, data in files.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
