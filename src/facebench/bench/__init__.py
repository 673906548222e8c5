"""Benchmark pipelines: detection → alignment → embedding → metric, with per-image caches."""
