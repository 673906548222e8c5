"""Peak memory of `detect` on huge images: reduced-resolution decoding against full decoding.

Generates a 10000×10000 JPEG (the crowd photo scaled up) and a ~119 MP PNG that compresses to
about 100 KB, then runs, each in a fresh process so peak RSS is its own: `facebench.detect` on
the file (default input policy: decoding reduced to what the detector needs), and the baseline
of the same run: the image decoded at full size, then detected as an array (the pre-reduction
behaviour; with ``--input-size original`` the detector then also works at full size).
Target (issue 14): peak RSS of `detect` on a 120 MP image under 1 GB at the default policy.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/decode_memory.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import resource, sys, time
import numpy as np
import facebench
path, mode, detector, policy = sys.argv[1:5]
options = {} if policy == "default" else {"input_size": policy}
model = facebench.create_detector(detector, **options)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if mode == "file":
    faces = model.detect(path)
else:
    faces = model.detect(facebench.load_image(path))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{peak / 1024:.0f} {base / 1024:.0f} {seconds:.2f} {len(faces)}")
"""


def _make_images(folder: Path, crowd: Path) -> dict[str, Path]:
    from PIL import Image

    jpeg = folder / "huge_10000x10000.jpg"
    with Image.open(crowd) as photo:
        photo.convert("RGB").resize((10000, 10000), Image.Resampling.BILINEAR).save(jpeg, quality=90)
    png = folder / "huge_119mp.png"
    Image.new("RGB", (10900, 10900), (120, 140, 160)).save(png, optimize=True)
    return {"jpeg 100 MP": jpeg, "png 119 MP": png}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", default="yunet")
    home = Path(os.environ.get("FACEBENCH_HOME", "../shared"))
    parser.add_argument("--crowd", type=Path, default=home / "data/demo/retinaface_curve/test.jpg")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        images = _make_images(Path(tmp), args.crowd)
        print(
            f"detector {args.detector}; peak RSS of a fresh process (MB); after-import baseline in brackets"
        )
        print(f"{'image':14} {'file KB':>8} {'how':42} {'peak MB':>8} {'s':>6} {'faces':>6}")
        for label, path in images.items():
            for mode, policy, how in (
                ("file", "default", "detect(file), default policy"),
                ("array", "default", "baseline: full decode, default policy"),
                ("array", "original", "baseline: full decode, --input-size original"),
            ):
                started = time.perf_counter()
                result = subprocess.run(
                    [sys.executable, "-c", _CHILD, str(path), mode, args.detector, policy],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if result.returncode != 0:
                    line = (result.stderr.strip().splitlines() or ["?"])[-1]
                    print(f"{label:14} {path.stat().st_size / 1024:8.0f} {how:42} failed: {line}")
                    continue
                peak, base, seconds, faces = result.stdout.split()
                print(
                    f"{label:14} {path.stat().st_size / 1024:8.0f} {how:42} {peak:>8} {seconds:>6} {faces:>6}"
                    f"   [{base}] ({time.perf_counter() - started:.1f} s with start-up)"
                )


if __name__ == "__main__":
    main()
