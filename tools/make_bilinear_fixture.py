#!/usr/bin/env python3
"""Fixture for Pillow's BILINEAR resize (the filter torchvision's RandomResizedCrop uses on PIL
images, hence TPT's augmented views): a small deterministic RGB image resized to a few sizes,
shrinking and enlarging, one axis and both. Written to
Tests/TTADModelTests/Fixtures/bilinear_resize.json; checked bit-exact by ViewAugmenterTests.

    python3 tools/make_bilinear_fixture.py
"""
import json
import os
import PIL
from PIL import Image

W, H = 13, 9
pixels = bytes(((x * 37 + y * 11 + c * 89 + (x * y) % 7 * 13) % 256)
               for y in range(H) for x in range(W) for c in range(3))
src = Image.frombytes("RGB", (W, H), pixels)
cases = []
for w, h in [(5, 7), (20, 15), (13, 4), (6, 9), (31, 2)]:
    out = src.resize((w, h), Image.BILINEAR)
    cases.append({"width": w, "height": h, "pixels": list(out.tobytes())})
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "TTADModelTests", "Fixtures", "bilinear_resize.json")
with open(path, "w") as f:
    json.dump({"pillow": PIL.__version__, "width": W, "height": H, "source": list(pixels), "cases": cases}, f)
print(f"wrote {os.path.normpath(path)} (Pillow {PIL.__version__})")
