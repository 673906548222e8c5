"""Recognition of low-resolution faces, with and without super-resolution (issue 13, docs/RESULTS.md).

Every aligned LFW crop is shrunk K times (bicubic, `lowres:K`) and brought back to the
recognizer's input by: nothing but a bilinear resize (`none`), bicubic interpolation (the baseline
to beat), or a super-resolution model. Where no model of scale K exists, a ×4 model runs and
bicubic takes it the rest of the way (×8: ×4 model, then ×2 bicubic). Prints one Markdown row per
recognizer and factor: accuracy ± std over the 10 folds, and an exact McNemar test of each
restorer against bicubic on the same 6,000 pairs.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/superres_lfw.py --out runs/superres
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

RESTORERS = {
    2: ("none", "bicubic", "fsrcnn_x2", "espcn_x2", "lapsrn_x2"),
    4: ("none", "bicubic", "fsrcnn_x4", "espcn_x4", "lapsrn_x4", "realesrgan_x4"),
    8: ("none", "bicubic", "fsrcnn_x4", "espcn_x4", "lapsrn_x8", "realesrgan_x4"),
}
COLUMNS = ("none", "bicubic", "fsrcnn", "espcn", "lapsrn", "realesrgan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="lfw", help="a pair dataset (lfw, cfp_fp, csv:<file>)")
    parser.add_argument("--detector", default="yunet")
    parser.add_argument("--recognizers", default="edgeface_xs_dequant@onnx,mobilefacenet_tflite")
    parser.add_argument("--factors", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--method", default="bicubic", choices=["bicubic", "area"], help="how lowres shrinks")
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        help="restorer families to run (none bicubic fsrcnn espcn lapsrn realesrgan)",
    )
    parser.add_argument("--folds", default=None, help="0-based folds, comma-separated (a quick look)")
    parser.add_argument("--out", type=Path, default=Path("runs/superres"))
    args = parser.parse_args()

    import numpy as np

    from facebench.bench.engine import run_benchmark
    from facebench.datasets import load_pair_dataset
    from facebench.metrics.significance import mcnemar_exact

    pairs = load_pair_dataset(args.dataset)
    if args.folds:
        pairs = pairs.subset(np.isin(pairs.fold, [int(f) for f in args.folds.split(",")]))
    recognizers = tuple(args.recognizers.split(","))
    print(f"| recognizer | lowres | {' | '.join(COLUMNS)} |")
    print(f"|---|---|{'---:|' * len(COLUMNS)}")
    records = []
    for factor in args.factors:
        started = time.perf_counter()
        result = run_benchmark(
            pairs,
            args.out,
            dataset=args.dataset,
            detectors=(args.detector,),
            recognizers=recognizers,
            align=("similarity",),
            degrade=f"lowres:{factor}:{args.method}",
            restore=tuple(r for r in RESTORERS[factor] if args.only is None or r.split("_x")[0] in args.only),
            measure_cost=False,
            show_progress=False,
        )
        seconds = time.perf_counter() - started
        for recognizer in recognizers:
            runs = {
                run.restore or "none": run
                for run in result.runs
                if run.recognizer == recognizer.split("@")[0]
            }
            baseline = runs["bicubic"]
            cells = []
            for column in COLUMNS:
                run = next((r for name, r in runs.items() if name.split("_x")[0] == column), None)
                if run is None:
                    cells.append("—")
                    continue
                cell = f"{100 * run.accuracy_mean:.2f} ± {100 * run.accuracy_std:.2f}"
                if column != "bicubic":
                    better, worse, p_value = mcnemar_exact(run.correct, baseline.correct)
                    cell += f" (+{better}/−{worse}, p={p_value:.2g})"
                    if run.restore not in (None, "none", f"{column}_x{factor}"):
                        cell += f" [{run.restore}]"
                cells.append(cell)
                records.append(
                    {
                        "recognizer": recognizer,
                        "factor": factor,
                        "restore": run.restore or "none",
                        "accuracy_mean": run.accuracy_mean,
                        "accuracy_std": run.accuracy_std,
                        "tar_at_far_1e-3": run.tar_at_far.get("0.001"),
                        "embed_ms_p50": run.embed_ms_p50,
                    }
                )
            print(f"| {recognizer} | ×{factor} | {' | '.join(cells)} |", flush=True)
        print(f"<!-- ×{factor}: {seconds:.0f} s -->", flush=True)
    (args.out / "superres.json").write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("FACEBENCH_THREADS", "2")
    main()
