"""Writing one LFW run's rows into the result store, against the WITHOUT ROWID layout it replaced.

One cold LFW run of a detector and a recognizer stores, per image, a detection (about 80 bytes)
and an embedding (2 KB for 512 floats), plus three latency samples. This script writes as many
synthetic rows of those sizes (7,701 images) through `ResultStore`, flushing every 1,000 rows as a
run does, once with the current schema and once with the former ``WITHOUT ROWID`` results table,
alternating the two for ``--rounds`` rounds; it prints the median seconds of each.

    .venv/bin/python benchmarks/store_write.py --rounds 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import facebench.bench.store as store_module
from facebench.bench.store import ResultStore

_IMAGES = 7701
_ENVIRONMENT = hashlib.sha256(b"environment").hexdigest()[:16]
_CONFIG = hashlib.sha256(b"config").hexdigest()[:16]


def _rows() -> tuple[list[str], list[bytes], list[bytes]]:
    generator = np.random.default_rng(0)
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(_IMAGES)]
    detections = [generator.bytes(80) for _ in range(_IMAGES)]
    embeddings = [generator.standard_normal(512).astype(np.float32).tobytes() for _ in range(_IMAGES)]
    return keys, detections, embeddings


def _write(folder: Path, keys: list[str], detections: list[bytes], embeddings: list[bytes]) -> float:
    start = time.perf_counter()
    with ResultStore(folder) as store:
        for key, detection, embedding in zip(keys, detections, embeddings, strict=True):
            store.put("detect", _CONFIG, key, detection)
            store.put("embed", _CONFIG, key, embedding)
            for stage in ("detect", "embed", "align"):
                store.put_latency(stage, _CONFIG, _ENVIRONMENT, 8, key, 1.0)
    return time.perf_counter() - start


def _former_schema() -> str:
    former = store_module._SCHEMA.replace(
        "UNIQUE (stage, config, image)\n);", "PRIMARY KEY (stage, config, image)\n) WITHOUT ROWID;"
    )
    assert former != store_module._SCHEMA, "the results table's layout changed: update this script"
    return former


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = _rows()
    current_schema, former_schema = store_module._SCHEMA, _former_schema()
    store, former = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            store.append(_write(Path(folder) / "current", *rows))
            store_module._SCHEMA = former_schema
            try:
                former.append(_write(Path(folder) / "former", *rows))
            finally:
                store_module._SCHEMA = current_schema
    print(
        json.dumps(
            {
                "images": _IMAGES,
                "rows": {"results": 2 * _IMAGES, "latency": 3 * _IMAGES},
                "rowid_results_s": round(statistics.median(store), 3),
                "without_rowid_results_s": round(statistics.median(former), 3),
                "rounds": args.rounds,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
