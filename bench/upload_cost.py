"""What one uploaded image costs the server: peak extra memory and read time, new way and old.

Each case (an image made here, written to a temporary file) is read in a fresh process:
PIL, numpy and the canvas module imported and a tiny PNG and JPEG read first, the file's
bytes in memory (Streamlit holds them anyway), the peak RSS reset to the current RSS
(/proc/self/clear_refs), then `read_upload` + `to_mnist` once: peak extra = VmHWM - RSS
before. Then the median wall time of several reads. The old way, for comparison, is what
read_upload did before: the whole image decoded and converted to RGBA, then to_mnist on it.
MB are 10**6 bytes. Targets (issue "A class of thirty on one server"): under 60 MB per
upload, a 12-megapixel JPEG read in under 0.3 s.

Usage: python -m bench.upload_cost [--repeats 5] [--cases jpeg_12mp png_4096_blank ...]
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image, ImageDraw

from mnist_dash.canvas import BadUpload, read_upload, to_mnist


def photo(width: int, height: int, noise: float = 6.0) -> Image.Image:
    """Paper under uneven light with sensor noise, a 7 written on it in dark pen: like a phone picture."""
    rng = np.random.default_rng(0)
    y, x = np.ogrid[0:height, 0:width]
    light = 190 + 40 * np.sin(x / width * 3).astype(np.float32) * np.cos(y / height * 2).astype(np.float32)
    pixels = light[..., None] + rng.normal(0, noise, (height, width, 3)).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    points = [(0.35 * width, 0.25 * height), (0.65 * width, 0.25 * height), (0.45 * width, 0.8 * height)]
    ImageDraw.Draw(image).line(points, fill=(30, 30, 45), width=max(4, height // 25))
    return image


def blank_drawing(size: int, mode: str) -> Image.Image:
    """A mostly white square with a black 7: a drawing exported from a paint program, ~60 kB as PNG."""
    image = Image.new(mode, (size, size), "white")
    points = [(0.35 * size, 0.25 * size), (0.65 * size, 0.25 * size), (0.45 * size, 0.8 * size)]
    ImageDraw.Draw(image).line(points, fill="black", width=size // 30)
    return image


CASES = {  # name: (how to make it, format, save options)
    "jpeg_12mp": (lambda: photo(4000, 3000), "JPEG", {"quality": 90}),
    "jpeg_12mp_progressive": (lambda: photo(4000, 3000), "JPEG", {"quality": 90, "progressive": True}),
    "png_4096_blank": (lambda: blank_drawing(4096, "RGB"), "PNG", {}),
    "png_4096_blank_grey": (lambda: blank_drawing(4096, "L"), "PNG", {}),
    "png_4096_photo": (lambda: photo(4096, 4096, noise=1.0), "PNG", {}),
    "png_rgb_at_limit": (lambda: photo(3160, 3160, noise=0.7), "PNG", {}),  # 39.9 MB decoded: just under
}


def rss_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def old_read(data: bytes) -> np.ndarray:
    """read_upload before this change, without its checks: decode whole, convert whole."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return np.asarray(image.convert("RGBA"))


def child(path: str, way: str, repeats: int) -> None:
    read = read_upload if way == "new" else old_read
    for tiny in (Image.new("RGB", (64, 48), "white"), Image.new("L", (64, 48))):
        for format in ("PNG", "JPEG"):  # load the decoders and warm the allocator
            buffer = io.BytesIO()
            tiny.save(buffer, format)
            read(buffer.getvalue())
    with open(path, "rb") as file:
        data = file.read()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # VmHWM := VmRSS now, so the peak below is this read's
    before = rss_mb("VmRSS")
    outcome, times = "", []
    for _ in range(repeats):
        started = time.perf_counter()
        try:
            image = read(data)
            to_mnist(image)
            outcome = f"read as {image.shape[1]}x{image.shape[0]}"
        except BadUpload as refused:
            outcome = f"refused: {refused}"
        times.append(time.perf_counter() - started)
        if len(times) == 1:
            peak = rss_mb("VmHWM") - before
    print(json.dumps({"peak_mb": round(peak, 1), "read_s": round(statistics.median(times), 4), "outcome": outcome}))


def measure(path: str, way: str, repeats: int) -> dict:
    command = [sys.executable, "-m", "bench.upload_cost", "--child", path, way, str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{path} ({way}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.cases:
            make, format, options = CASES[name]
            path = os.path.join(folder, f"{name}.{format.lower()}")
            make().save(path, format, **options)
            new, old = measure(path, "new", args.repeats), measure(path, "old", args.repeats)
            size = os.path.getsize(path) / 1e6
            print(f"{name:22} {size:6.2f} MB file: {new['outcome'][:110]}")
            print(f"{'':22} new: peak {new['peak_mb']:6.1f} MB, {new['read_s']:.3f} s", end="")
            print(f"   old: peak {old['peak_mb']:6.1f} MB, {old['read_s']:.3f} s", flush=True)
            results[name] = {
                "file_mb": round(size, 2),
                "accepted": new["outcome"].startswith("read"),
                "peak_mb": new["peak_mb"],
                "read_s": new["read_s"],
                "old_peak_mb": old["peak_mb"],
                "old_read_s": old["read_s"],
            }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
