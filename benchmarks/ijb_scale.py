"""IJB-C-sized 1:1 and 1:N scoring on synthetic template features: time and peak memory.

IJB-C has 23,124 templates, 15,658,489 template pairs (19,557 genuine) and, for 1:N, galleries
of 1,772 / 1,759 templates searched by 19,593 probes. The features here are random unit vectors
(512-d): the numbers measure the scoring, never accuracy. Peak RSS must stay far below a
pairs × dim matrix (15.7M × 512 float32 = 32 GB).

    .venv/bin/python benchmarks/ijb_scale.py
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--templates", type=int, default=23_124)
    parser.add_argument("--pairs", type=int, default=15_658_489)
    parser.add_argument("--genuine", type=int, default=19_557)
    parser.add_argument("--dim", type=int, default=512)
    args = parser.parse_args()

    from facebench.metrics.ijb import IJB_FARS, identify, template_pair_scores, verify_templates

    rng = np.random.default_rng(0)
    features = rng.normal(size=(args.templates, args.dim)).astype(np.float32)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    ids = np.arange(args.templates) * 3 + 1  # sparse ids, as the release's
    first = ids[rng.integers(0, args.templates, args.pairs)]
    second = ids[rng.integers(0, args.templates, args.pairs)]
    labels = np.zeros(args.pairs, bool)
    labels[rng.choice(args.pairs, args.genuine, replace=False)] = True
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    scores = template_pair_scores(ids, features, first, second)
    scored = time.perf_counter()
    tar = verify_templates(scores, labels, IJB_FARS)
    measured = time.perf_counter()
    gallery = features[:1772]
    probes = features[-19_593:]
    identify(gallery, np.arange(1772), probes, np.arange(19_593))
    searched = time.perf_counter()
    print(
        json.dumps(
            {
                "pairs": args.pairs,
                "templates": args.templates,
                "score_s": round(scored - started, 2),
                "tar_at_far_s": round(measured - scored, 2),
                "search_1772x19593_s": round(searched - measured, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "rss_before_scoring_mb": round(before, 1),
                "tar_at_far": tar,
            }
        )
    )


if __name__ == "__main__":
    main()
