"""What re-hashing every model file on every load costs (the store keeps no verdict cache).

For each present model file: its size, the median time of a full sha256 (file read included,
page cache warm after the first pass), and the same for a verified load through
`ModelStore.resolve`. Compared in the same run against building the model (session creation),
which every load pays anyway.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/hash_cost.py
"""

from __future__ import annotations

import argparse
import statistics
import time

from facebench.zoo import default_store, list_cards
from facebench.zoo.hashing import sha256_file


def _median_ms(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    store = default_store()
    total_bytes, total_ms = 0, 0.0
    print(f"{'model':24} {'file':40} {'MB':>7} {'sha256 ms':>10} {'resolve ms':>11}")
    for card in list_cards():
        for status in store.status(card):
            if status.path is None or status.state.value != "ok":
                continue
            path = status.path
            size = path.stat().st_size
            sha_ms = _median_ms(lambda p=path: sha256_file(p), args.repeats)
            resolve_ms = (
                _median_ms(lambda c=card, f=status.filename: store.resolve(c, f), args.repeats)
                if not path.name.endswith(".bz2")
                else float("nan")
            )
            total_bytes += size
            total_ms += sha_ms
            print(
                f"{card.name:24} {status.filename:40} {size / 2**20:7.2f} {sha_ms:10.2f} {resolve_ms:11.2f}"
            )
    print(
        f"\nall {total_bytes / 2**20:.1f} MB hashed in {total_ms:.0f} ms "
        f"({total_bytes / 2**20 / (total_ms / 1000):.0f} MB/s)"
    )

    from facebench.detectors import create

    build_ms = _median_ms(lambda: create("yunet"), args.repeats)
    yunet = store.status("yunet")[0].path
    print(
        f"baseline in the same run: building yunet {build_ms:.1f} ms, of which hashing its file "
        f"{_median_ms(lambda: sha256_file(yunet), args.repeats):.2f} ms"
    )


if __name__ == "__main__":
    main()
