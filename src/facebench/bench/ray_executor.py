"""`RayExecutor`: the per-image work of a job on a Ray cluster, through Ray Data actor pools.

The driver (`facebench.bench.stages`) is unchanged: it decides what the store lacks, hands the
`WorkItem` list to this executor and stores each `ImageOutcome` as it streams back, so a Ray run
lands in the same content-keyed store as a local one, a re-run is still incremental, and the
metrics are computed from the same records.

Here, Ray Data reads the item list and ``map_batches`` runs decode → detect → align → embed in an
actor pool (``compute=ActorPoolStrategy(size=N)``): each actor builds its models once (one ONNX
Runtime / PyTorch session per model) with its thread count set to the CPUs it reserved, since Ray
does not set ONNX Runtime's threads, and runs the same `LocalExecutor` code as a local run, so the
outputs are those of a local run. Ray Data restarts a killed actor and retries its batch
(``max_restarts=-1``, ``max_task_retries=-1``, its defaults for actor pools, kept here on
purpose): only the outputs of the attempt that finished stream back, so every image reaches the
store once.

Latencies are not taken from the actors (their machines, threads and neighbours are not the
driver's environment fingerprint): `measures_latency` is ``False``, and the driver times a sample
locally, saying so in the results.

Without an address Ray starts embedded in this process (bounded object store); ``auto`` or a
``ray://`` address joins a running cluster, whose workers must have facebench installed and see
the same ``$FACEBENCH_HOME`` (it is passed on in the runtime environment).
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from facebench.bench.executor import ImageOutcome, LocalExecutor, WorkItem
from facebench.bench.plan import DetectorJob, EmbedSpec, ModelPool, ModelSpec
from facebench.errors import FacebenchError
from facebench.extras import require

__all__ = ["RayExecutor", "with_threads"]

#: environment variables a worker needs to find weights and data, passed on to the cluster
_PASSED_ON = ("FACEBENCH_HOME", "FACEBENCH_THRESHOLDS", "FACEBENCH_CACHE")


def with_threads(job: DetectorJob, threads: int) -> DetectorJob:
    """The job with every model's thread count set to ``threads`` (what one actor reserved)."""
    for spec in (job.detector, *(embed.recognizer for embed in job.embeds)):
        if any(key == "instance" for key, _ in spec.options):
            raise FacebenchError(
                f"{spec.name} was handed over as a built object, which cannot be sent to Ray workers; "
                "name it by its registry name instead"
            )

    def retimed(spec: ModelSpec) -> ModelSpec:
        options = {key: value for key, value in spec.options if key != "threads"}
        return ModelSpec.of(spec.kind, spec.name, threads=threads, **options)

    return DetectorJob(
        retimed(job.detector),
        tuple(EmbedSpec(retimed(embed.recognizer), embed.method) for embed in job.embeds),
        job.face,
    )


class _Worker:
    """One actor of the pool: its models, built once, and the local pipeline that runs them."""

    def __init__(self, job: DetectorJob, threads: int) -> None:
        os.environ["FACEBENCH_THREADS"] = str(threads)  # any session built without an explicit count
        self.job = with_threads(job, threads)
        self.executor = LocalExecutor(ModelPool(), decode_threads=1, chunk_size=64)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = [pickle.loads(blob) for blob in batch["item"]]
        by_key = {item.key: position for position, item in enumerate(items)}
        outcomes: list[bytes | None] = [None] * len(items)
        for outcome in self.executor.run(self.job, items):
            outcomes[by_key[outcome.item.key]] = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        missing = [items[i].path for i, blob in enumerate(outcomes) if blob is None]
        if missing:
            raise RuntimeError(f"the local pipeline returned no outcome for {missing[0]}")
        return {"position": batch["position"], "outcome": np.array(outcomes, dtype=object)}


class RayExecutor:
    """Runs jobs on Ray (see the module docstring).

    Args:
        address: ``None`` starts Ray embedded in this process; ``auto`` joins the local cluster,
            ``ray://HOST:PORT`` a remote one (an existing ``ray.init`` is reused as it is).
        actors: actors in the pool (default: the cluster's CPUs divided by ``cpus_per_actor``).
        cpus_per_actor: CPUs each actor reserves; its inference threads are set to this.
        batch_size: images per actor call; bounds each actor's memory and the object store.
        object_store_mb: the object store of an embedded Ray (and the limit Ray Data keeps to).
    """

    #: the actors' timings are not this environment's: the driver re-times a sample locally
    measures_latency = False

    def __init__(
        self,
        address: str | None = None,
        *,
        actors: int | None = None,
        cpus_per_actor: int = 1,
        batch_size: int = 32,
        object_store_mb: int = 512,
    ) -> None:
        if cpus_per_actor < 1 or batch_size < 1 or (actors is not None and actors < 1):
            raise FacebenchError("Ray actors, CPUs per actor and batch size must each be at least 1")
        self.address = address
        self.actors = actors
        self.cpus_per_actor = cpus_per_actor
        self.batch_size = batch_size
        self.object_store_mb = object_store_mb

    def _ray(self) -> Any:
        require("ray.data", "--executor ray")
        import ray

        if not ray.is_initialized():
            env_vars = {name: os.environ[name] for name in _PASSED_ON if name in os.environ}
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "runtime_env": {"env_vars": env_vars} if env_vars else None,
                "configure_logging": False,
            }
            if self.address is None:
                options["object_store_memory"] = self.object_store_mb * 1024 * 1024
            ray.init(address=self.address, **options)
        # the driver reports progress as outcomes arrive; Ray Data's own chatter (plans, timings,
        # progress-bar notices) goes to its log files, only its errors reach the terminal
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.execution_options.resource_limits = context.execution_options.resource_limits.copy(
            object_store_memory=self.object_store_mb * 1024 * 1024
        )
        return ray

    def pool_size(self) -> int:
        """Actors the pool gets: as asked, or as many as the cluster's CPUs hold."""
        if self.actors is not None:
            return self.actors
        cpus = int(self._ray().cluster_resources().get("CPU", 1))
        return max(1, cpus // self.cpus_per_actor)

    def run(self, job: DetectorJob, items: Sequence[WorkItem]) -> Iterator[ImageOutcome]:
        if not items:
            return
        ray = self._ray()
        with_threads(job, self.cpus_per_actor)  # refuses a job Ray cannot ship, before any work
        actors = min(self.pool_size(), max(1, -(-len(items) // self.batch_size)))
        rows = [
            {"position": position, "item": pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)}
            for position, item in enumerate(items)
        ]
        blocks = max(1, min(len(rows) // self.batch_size, 4 * actors * 4))
        dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
            _Worker,
            fn_constructor_kwargs={"job": job, "threads": self.cpus_per_actor},
            batch_size=self.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=self.cpus_per_actor,
        )
        seen: set[int] = set()
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            for position, blob in zip(batch["position"].tolist(), batch["outcome"], strict=True):
                if position in seen:  # never expected: a retried batch streams back once
                    continue
                seen.add(position)
                yield pickle.loads(blob)
        if len(seen) != len(items):
            raise FacebenchError(f"Ray returned {len(seen)} of {len(items)} images; run again to finish")

    def describe(self) -> dict[str, Any]:
        """What the results record about how the work ran."""
        return {
            "kind": "ray",
            "address": self.address or "embedded",
            "actors": self.pool_size(),
            "cpus_per_actor": self.cpus_per_actor,
            "batch_size": self.batch_size,
        }
