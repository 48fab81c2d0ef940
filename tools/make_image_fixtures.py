#!/usr/bin/env python3
"""Generate the image-pipeline fixtures in Tests/TTADModelTests/Fixtures/images (seeded, deterministic).

For each fixture image this writes the encoded file (JPEG/PNG) and, as references for the Swift
pipeline (TTADModel/Image), what Hugging Face's CLIP image processor does with it:

  * <name>.ref.png   the 224x224 uint8 crop the processor produced after its PIL bicubic resize and
                     centre crop, i.e. *before* rescale/normalise. Stored losslessly as RGB PNG. The
                     generator asserts that rescaling it (float64 * 1/255 -> float32) and normalising
                     it (float32 (x - mean) / std) reproduces the processor's `pixel_values` bit for
                     bit, so the crop plus the config *is* the reference, at ~1/10 the size of float16
                     pixel_values. index.json also carries an FNV-1a-64 of the float32 pixel_values
                     (C-order CHW, little-endian) so the Swift test can check that identity too.
  * <name>.pil.png   the RGB uint8 pixels PIL's decoder produced (after convert_to_rgb), so the tests
                     can separate decoder differences (libjpeg-turbo 2.1 via TurboJPEG vs the
                     libjpeg-turbo bundled in Pillow's wheel; libpng vs Pillow's 16-bit handling)
                     from resize differences. Stored in full only for KEEP_DECODED_PIXELS (size
                     budget); for every fixture index.json has the FNV-1a-64 of PIL's pixels, and
                     for PNGs (lossless) the file itself carries them.
  * index.json       per fixture: file, format, size, the resize target, FNV-1a-64 of PIL's decoded
                     RGB pixels (HWC), the reference crop, the pixel_values hash/sum, and the versions
                     of transformers / Pillow / libjpeg-turbo used.

Reference = transformers' PIL backend of CLIPImageProcessor (`CLIPImageProcessorPil` in
transformers >= 5; `CLIPImageProcessor` in 4.x, where it is the PIL implementation), constructed
offline with OpenAI CLIP's settings. Note: in transformers 5, `CLIPImageProcessor` defaults to a
torchvision backend when torchvision is installed; that backend resizes differently (float,
torchvision antialias) and is *not* what these fixtures record.

Also writes cmyk.jpg, a CMYK JPEG; tools/make_cmyk_fixtures.py writes what Pillow decodes it
to (cmyk.pil.png). "error_fixtures" lists inputs the decoder must reject (none at present).
Output is byte-for-byte deterministic for a given Pillow/zlib/libjpeg-turbo.

Usage (from the repository root; needs `pip install transformers pillow numpy`):
    python3 tools/make_image_fixtures.py [--out Tests/TTADModelTests/Fixtures/images]
"""

import argparse
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
import PIL
from PIL import Image, features

import transformers

try:
    from transformers import CLIPImageProcessorPil as _Processor
except ImportError:  # transformers 4.x: CLIPImageProcessor is the PIL/numpy implementation
    from transformers import CLIPImageProcessor as _Processor
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling

SEED = 20240611
SHORTEST_EDGE = 224
CROP = 224
# JPEG fixtures whose PIL-decoded pixels are stored in full (<name>.pil.png) so the test can report
# the per-pixel decoder difference; for the others only the FNV hash of PIL's pixels is stored
# (libjpeg-turbo 2.1.5 via TurboJPEG matched Pillow's bundled libjpeg-turbo bit for bit on all of
# them when these fixtures were made). Kept to one JPEG for the size budget, plus the 16-bit PNG,
# whose 16 -> 8 bit reduction differs between Pillow (high byte) and libpng (rounded scale).
KEEP_DECODED_PIXELS = {"photo_420", "rgb16"}


def make_processor():
    return _Processor(
        do_resize=True, size={"shortest_edge": SHORTEST_EDGE}, resample=PILImageResampling.BICUBIC,
        do_center_crop=True, crop_size={"height": CROP, "width": CROP},
        do_rescale=True, rescale_factor=1 / 255,
        do_normalize=True, image_mean=OPENAI_CLIP_MEAN, image_std=OPENAI_CLIP_STD,
        do_convert_rgb=True)


# ---------------------------------------------------------------------------------------------
# Synthetic content


def photo_like(rng, h, w, noise=1.0):
    """Smooth colour gradients, soft blobs and mild sensor-like noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = x / w, y / h
    img = np.stack([
        90 + 110 * u + 30 * np.sin(6.0 * v + 1.0),
        60 + 80 * v + 40 * np.cos(5.0 * u * v + 0.3),
        150 - 90 * u * v + 25 * np.sin(9.0 * u),
    ], axis=-1)
    for _ in range(5):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        r = rng.uniform(0.08, 0.25) * min(h, w)
        colour = rng.uniform(-90, 90, size=3)
        d2 = ((y - cy) ** 2 + (x - cx) ** 2) / (r * r)
        img += np.exp(-d2)[..., None] * colour
    img += rng.normal(0, noise, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def sharp_edges(rng, h, w):
    """Hard edges at full contrast (0/255) to exercise bicubic overshoot clamping, thin lines,
    a fine checkerboard (aliasing), flat colour patches."""
    img = np.zeros((h, w, 3), np.uint8)
    y, x = np.mgrid[0:h, 0:w]
    img[((x // 16 + y // 16) % 2) == 0] = (255, 255, 255)
    img[(y < h // 4)] = (255, 0, 0)
    img[(y < h // 4) & (x > w // 2)] = (0, 0, 255)
    img[(y > 3 * h // 4) & ((x + y) % 2 == 0)] = (0, 255, 0)          # 1-px checkerboard
    img[(y > 3 * h // 4) & ((x + y) % 2 == 1)] = (20, 0, 40)
    img[:, w // 3] = (255, 255, 0)                                      # 1-px lines
    img[h // 2, :] = (0, 255, 255)
    for _ in range(6):
        y0, x0 = rng.integers(0, h - 20), rng.integers(0, w - 20)
        img[y0:y0 + rng.integers(3, 20), x0:x0 + rng.integers(3, 20)] = rng.integers(0, 256, 3)
    return img


# ---------------------------------------------------------------------------------------------
# Encoders


def jpeg_bytes(img, **kw):
    buf = io.BytesIO()
    img.save(buf, format="JPEG", **kw)
    return buf.getvalue()


def png_bytes(img, **kw):
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True, **kw)
    return buf.getvalue()


def png16_rgb_bytes(rgb16):
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one), filter 0, one IDAT."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\x00" + rgb16[r].astype(">u2").tobytes() for r in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------------------------------


def fnv1a64(data: bytes) -> str:
    """FNV-1a 64-bit, vectorised over 8-byte lanes would change the definition; keep it bytewise."""
    h = 0xCBF29CE484222325
    prime = 0x100000001B3
    mask = 0xFFFFFFFFFFFFFFFF
    for b in data:
        h = ((h ^ b) * prime) & mask
    return f"{h:016x}"


def build_fixtures(rng):
    """(name, file bytes, extension, description)."""
    out = []
    photo = photo_like(rng, 192, 256)
    out.append(("photo_420", jpeg_bytes(Image.fromarray(photo), quality=90, subsampling=2), "jpg",
                "photo-like 256x192 baseline JPEG, 4:2:0 subsampling (downscale)"))
    portrait = photo_like(rng, 252, 168, noise=0.3)
    out.append(("portrait_444", jpeg_bytes(Image.fromarray(portrait), quality=92, subsampling=0), "jpg",
                "photo-like portrait 168x252 JPEG, 4:4:4 (upscale to 224x336)"))
    prog = photo_like(rng, 180, 240, noise=0.3)
    prog[60:120, 80:160] = sharp_edges(rng, 60, 80)
    out.append(("progressive", jpeg_bytes(Image.fromarray(prog), quality=85, subsampling=2, progressive=True), "jpg",
                "progressive 240x180 JPEG, 4:2:0, photo with a sharp-edged inset"))
    grey = photo_like(rng, 150, 200, noise=0.3).mean(axis=-1).astype(np.uint8)
    out.append(("grey_jpeg", jpeg_bytes(Image.fromarray(grey, "L"), quality=90), "jpg",
                "greyscale 200x150 JPEG (one component)"))
    edges = sharp_edges(rng, 256, 256)
    out.append(("edges", png_bytes(Image.fromarray(edges)), "png",
                "sharp-edged synthetic 256x256 RGB PNG (overshoot/clamping)"))
    land = photo_like(rng, 224, 288, noise=0.0)
    land[100:140, 50:250] = (250, 250, 250)
    out.append(("landscape_224", png_bytes(Image.fromarray(land)), "png",
                "288x224 RGB PNG: shortest side already 224 (no resize, crop only)"))
    odd = photo_like(rng, 157, 301, noise=0.0)
    odd[::31] = 0
    out.append(("odd_landscape", png_bytes(Image.fromarray(odd)), "png",
                "301x157 RGB PNG: int() rounding of the long side (224*301/157 = 429.4)"))
    tiny = sharp_edges(rng, 31, 45)
    tiny[10:20, 10:30] = photo_like(rng, 10, 20)
    out.append(("tiny", png_bytes(Image.fromarray(tiny)), "png",
                "45x31 RGB PNG smaller than 224 (7x upsampling)"))
    greyp = photo_like(rng, 240, 180, noise=0.0).mean(axis=-1).astype(np.uint8)
    greyp[::17, :] = 255
    out.append(("grey", png_bytes(Image.fromarray(greyp, "L")), "png",
                "180x240 8-bit greyscale PNG"))
    rgba = sharp_edges(rng, 160, 200).astype(np.uint8)
    alpha = np.tile(np.linspace(0, 255, 200).astype(np.uint8), (160, 1))
    alpha[:40, :40] = 0
    alpha[120:, 150:] = 255
    out.append(("rgba", png_bytes(Image.fromarray(np.dstack([rgba, alpha]), "RGBA")), "png",
                "200x160 RGBA PNG: alpha ramp, fully transparent and opaque corners"))
    pal = Image.fromarray(photo_like(rng, 170, 170, noise=0.0)).quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out.append(("palette", png_bytes(pal), "png", "170x170 palette PNG, 16 colours (posterised photo), no transparency"))
    palt = Image.fromarray(photo_like(rng, 120, 160, noise=0.0)).quantize(colors=64, dither=Image.Dither.NONE)
    out.append(("palette_trns", png_bytes(palt, transparency=3), "png",
                "160x120 palette PNG with a tRNS entry (index 3 transparent)"))
    rgb16 = (photo_like(rng, 48, 64, noise=0.0).astype(np.uint16) * 257
             + rng.integers(0, 257, size=(48, 64, 3)).astype(np.uint16))
    out.append(("rgb16", png16_rgb_bytes(rgb16), "png",
                "64x48 16-bit/channel RGB PNG (decoders reduce to 8 bits differently)"))
    return out


def reference(proc, image_or_array):
    """(crop uint8 CHW, pixel_values float32 CHW, resized (h, w), rgb HWC uint8 as decoded)."""
    from transformers.image_utils import ChannelDimension
    from transformers.image_processing_utils import SizeDict  # noqa: F401 (ensures API present)

    pv = proc(images=image_or_array, return_tensors="np")["pixel_values"][0]
    # Re-run the same steps the backend runs, keeping the uint8 crop.
    chw = proc.process_image(image_or_array, do_convert_rgb=True)
    rgb = np.ascontiguousarray(np.moveaxis(chw, 0, -1))
    resized = proc.resize(chw, size=proc.size, resample=proc.resample)
    crop = proc.center_crop(resized, proc.crop_size)
    assert crop.dtype == np.uint8 and crop.shape == (3, CROP, CROP), (crop.dtype, crop.shape)
    mean = np.array(OPENAI_CLIP_MEAN, np.float32)[:, None, None]
    std = np.array(OPENAI_CLIP_STD, np.float32)[:, None, None]
    mine = ((crop.astype(np.float64) * (1 / 255)).astype(np.float32) - mean) / std
    assert mine.dtype == np.float32 and pv.dtype == np.float32
    assert np.array_equal(mine.view(np.uint32), pv.view(np.uint32)), "crop does not reproduce pixel_values"
    return crop, pv, resized.shape[1:], rgb


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "TTADModelTests",
                                                  "Fixtures", "images"))
    args = ap.parse_args()
    out_dir = os.path.normpath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith((".png", ".jpg", ".json")):
            os.remove(os.path.join(out_dir, f))

    rng = np.random.default_rng(SEED)
    proc = make_processor()
    entries = []
    crops = {}

    def record(name, fmt, description, source, rgb_source, file_name=None, decoded_file=None, channels=None,
               same_as=None):
        crop, pv, resized, rgb = reference(proc, source)
        if rgb_source is not None:
            assert np.array_equal(rgb, rgb_source)
        ref_name = f"{name}.ref.png"
        if same_as is not None and np.array_equal(crop, crops[same_as]):
            ref_name = f"{same_as}.ref.png"   # raw input of the same pixels: identical crop, share the file
        else:
            Image.fromarray(np.ascontiguousarray(np.moveaxis(crop, 0, -1)), "RGB").save(
                os.path.join(out_dir, ref_name), optimize=True)
        crops[name] = crop
        entry = {
            "name": name, "description": description, "format": fmt, "file": file_name,
            "width": int(rgb.shape[1]), "height": int(rgb.shape[0]),
            "decoded_rgb_fnv1a64": fnv1a64(rgb.tobytes()),
            "decoded_file": decoded_file,
            "resized": [int(resized[0]), int(resized[1])],
            "reference_crop": ref_name,
            "pixel_values_fnv1a64": fnv1a64(pv.astype("<f4").tobytes()),
            "pixel_values_sum": float(pv.astype(np.float64).sum()),
        }
        if channels is not None:
            entry["raw_channels"] = channels
        entries.append(entry)
        return rgb

    for name, data, ext, description in build_fixtures(rng):
        file_name = f"{name}.{ext}"
        with open(os.path.join(out_dir, file_name), "wb") as f:
            f.write(data)
        pil = Image.open(io.BytesIO(data))
        pil.load()
        decoded_file = None
        if name in KEEP_DECODED_PIXELS:
            decoded_file = f"{name}.pil.png"
            Image.fromarray(np.array(pil.convert("RGB")), "RGB").save(os.path.join(out_dir, decoded_file), optimize=True)
        rgb = record(name, "jpeg" if ext == "jpg" else "png", description + f" [PIL mode {pil.mode}]",
                     pil, None, file_name=file_name, decoded_file=decoded_file)
        if "A" in pil.getbands() or pil.info.get("transparency") is not None:
            # Older transformers / plain Pillow: convert("RGB") drops alpha instead of compositing.
            entries[-1]["decoded_rgb_discard_alpha_fnv1a64"] = fnv1a64(np.array(pil.convert("RGB")).tobytes())
        if name == "grey":
            # The same pixels handed over as raw u8 HWC with C=1 (numpy path of convert_to_rgb).
            raw = np.array(pil)[..., None]
            record("raw_grey", "raw", "grey.png's pixels as raw u8 HWC, C=1", raw, rgb, channels=1, same_as="grey")
        if name == "odd_landscape":
            record("raw_rgb", "raw", "odd_landscape.png's pixels as raw u8 HWC, C=3", np.array(pil), rgb, channels=3,
                   same_as="odd_landscape")

    # A CMYK JPEG (not run through the processor); its expected RGB comes from
    # tools/make_cmyk_fixtures.py. Inputs the decoder must reject would go in `errors`.
    cmyk = Image.fromarray(photo_like(rng, 24, 32)).convert("CMYK")
    with open(os.path.join(out_dir, "cmyk.jpg"), "wb") as f:
        f.write(jpeg_bytes(cmyk, quality=80))
    errors = {}

    index = {
        "generator": "tools/make_image_fixtures.py",
        "seed": SEED,
        "reference": f"transformers {transformers.__version__} {_Processor.__name__}",
        "pillow": PIL.__version__,
        "pillow_libjpeg_turbo": features.version_feature("libjpeg_turbo"),
        "shortest_edge": SHORTEST_EDGE, "crop": CROP, "rescale": 1 / 255,
        "mean": list(OPENAI_CLIP_MEAN), "std": list(OPENAI_CLIP_STD),
        "fixtures": entries,
        "error_fixtures": errors,
    }
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print(f"wrote {len(entries)} fixtures to {out_dir} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    sys.exit(main())
