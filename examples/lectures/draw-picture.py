#!/usr/bin/env python3
"""Draws 06-picture.pgm, the 64x64 grey picture the image-kernel example filters.

Shapes with edges in every direction (a square, a disc, a slanted bar), a fine checkerboard
that the blurs wash out, and a soft left-to-right ramp that the edge filter ignores.
Run it from this folder: python3 draw-picture.py > 06-picture.pgm
"""

SIZE = 64


def pixel(x, y):
    if 6 <= x <= 25 and 6 <= y <= 25:                      # a bright square
        return 230
    if (x - 45) ** 2 + (y - 16) ** 2 <= 11.5 ** 2:         # a disc
        return 170
    if abs((y - 58) + 0.45 * (x - 4)) <= 2.5 and 4 <= x <= 60 and y >= 32:   # a slanted bar
        return 250
    if 40 <= x <= 59 and 44 <= y <= 59:                    # a checkerboard of 2x2 cells
        return 200 if (x // 2 + y // 2) % 2 == 0 else 20
    return 30 + x                                          # the background ramp


def main():
    print("P2")
    print("# 64x64 test picture for examples/lectures/06-image-kernels.sh (draw-picture.py)")
    print(SIZE, SIZE)
    print(255)
    for y in range(SIZE):
        row = [pixel(x, y) for x in range(SIZE)]
        for start in range(0, SIZE, 16):                   # 16 samples a line keeps lines short
            print(" ".join(f"{v:3d}" for v in row[start:start + 16]))


if __name__ == "__main__":
    main()
