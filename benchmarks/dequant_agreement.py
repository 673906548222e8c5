"""How far the float `_dequant` EdgeFace embeddings are from the published int8 `_q` ones.

Embeds the central face of N LFW images (one per identity, YuNet + similarity alignment) with both
models and prints the distribution of the cosine between the two embeddings of each face.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/dequant_agreement.py --faces 500
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

import facebench
from facebench.detectors import create as create_detector
from facebench.recognizers import create as create_recognizer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=500)
    args = parser.parse_args()
    root = Path(os.environ.get("FACEBENCH_HOME", "../shared")) / "data" / "lfw" / "lfw-deepfunneled"
    people = sorted(p for p in root.iterdir() if p.is_dir())
    paths = [sorted(p.glob("*.jpg"))[0] for p in people[:: max(1, len(people) // args.faces)][: args.faces]]
    detector = create_detector("yunet")
    samples = []
    for path in paths:
        rgb = facebench.load_image(path)
        faces = detector.detect(rgb)
        if faces:
            samples.append((rgb, faces[0]))
    for size in ("xs", "xxs"):
        quantized, dequant = (
            create_recognizer(f"edgeface_{size}_q"),
            create_recognizer(f"edgeface_{size}_dequant"),
        )
        cosine = np.array(
            [
                quantized.embed_faces(rgb, [face])[0] @ dequant.embed_faces(rgb, [face])[0]
                for rgb, face in samples
            ]
        )
        print(
            f"edgeface_{size}: {len(cosine)} faces, cosine int8 vs dequantized float: mean {cosine.mean():.4f}, "
            f"median {np.median(cosine):.4f}, 5th percentile {np.percentile(cosine, 5):.4f}, min {cosine.min():.4f}"
        )


if __name__ == "__main__":
    main()
