#!/usr/bin/env python3
"""CMYK JPEG fixtures and the RGB Pillow decodes them to (Tests/TTADModelTests/Fixtures/images).

Needs only Pillow (`pip install Pillow`). For each CMYK JPEG, writes <name>.pil.png holding
`Image.open(jpeg).convert("RGB")`, which the decoder must reproduce exactly:

* cmyk.jpg (written by make_image_fixtures.py: RGB converted to CMYK, so K = 0 everywhere);
* cmyk_k.jpg: 13x9 pixels of every C, M, Y and K level mix (K != 0 tells Pillow's cmyk2rgb apart
  from the older 255 - (C + K) formula). Pillow stores CMYK JPEGs Adobe-inverted, with an APP14
  marker, as Photoshop does.

Usage: python3 tools/make_cmyk_fixtures.py [out_dir]
"""
import os
import sys

from PIL import Image


def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "Tests", "TTADModelTests", "Fixtures", "images")
    w, h = 13, 9
    data = bytearray()
    for y in range(h):
        for x in range(w):
            data += bytes([(x * 20) % 256, (y * 29) % 256, ((x + y) * 11) % 256, ((x * 7 + y * 31) * 3) % 256])
    with open(os.path.join(out_dir, "cmyk_k.jpg"), "wb") as f:
        Image.frombytes("CMYK", (w, h), bytes(data)).save(f, "JPEG", quality=90)
    for name in ["cmyk", "cmyk_k"]:
        with Image.open(os.path.join(out_dir, name + ".jpg")) as im:
            assert im.mode == "CMYK", (name, im.mode)
            im.convert("RGB").save(os.path.join(out_dir, name + ".pil.png"), optimize=True)
    print("wrote cmyk_k.jpg, cmyk.pil.png, cmyk_k.pil.png to", out_dir)


if __name__ == "__main__":
    main()
