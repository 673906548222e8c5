"""Margin heads, focal loss and Partial FC checked against formulas written out by hand."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.nn import functional

from facebench.train.heads import AdaFace, CombinedMargin, PartialFC, build_margin, shard_range

REPO = Path(__file__).resolve().parents[1]


def _batch(seed: int = 0, batch: int = 12, dim: int = 16, classes: int = 20):
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, dim, generator=generator),
        torch.randint(0, classes, (batch,), generator=generator),
        torch.randn(classes, dim, generator=generator),
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("arcface", lambda c: math.cos(math.acos(c) + 0.5)),
        ("cosface", lambda c: c - 0.4),
        ("sphereface", lambda c: math.cos(1.7 * math.acos(c))),
        ("combined", lambda c: math.cos(math.acos(c) + 0.3) - 0.2),
    ],
)
def test_margin_presets_change_only_the_target_logit(name, expected):
    cosine = torch.tensor([[0.6, 0.2, -0.1], [0.1, 0.8, 0.3]])
    labels = torch.tensor([0, 1])
    logits = build_margin(name, s=10.0)(cosine, labels)
    for row, label in enumerate(labels.tolist()):
        assert logits[row, label].item() == pytest.approx(10 * expected(cosine[row, label].item()), abs=1e-5)
        others = [c for c in range(3) if c != label]
        torch.testing.assert_close(logits[row, others], 10 * cosine[row, others])


def test_arcface_continues_monotonically_past_pi():
    head = CombinedMargin(s=1.0, m1=1.0, m2=0.5, m3=0.0)
    cosines = torch.linspace(-0.999, 0.999, 400)
    targets = torch.stack([head(c.view(1, 1), torch.tensor([0]))[0, 0] for c in cosines])
    assert (targets.diff() > 0).all()  # a larger cosine always means a larger target logit


def test_rows_without_a_target_are_left_alone():
    cosine = torch.tensor([[0.5, 0.1]])
    torch.testing.assert_close(build_margin("arcface", s=2.0)(cosine, torch.tensor([-1])), 2 * cosine)


def test_adaface_gives_low_norm_faces_a_smaller_margin():
    head = AdaFace(s=1.0, m=0.4, h=0.333).eval()
    cosine = torch.tensor([[0.5, 0.0], [0.5, 0.0]])
    labels = torch.tensor([0, 0])
    low, high = head(cosine, labels, norms=torch.tensor([5.0, 60.0]))[:, 0]
    # a high-quality (high-norm) face gets the larger additive margin, so a lower target logit
    assert high < low < 0.5
    with pytest.raises(ValueError, match="norms"):
        head(cosine, labels)


def test_partial_fc_without_sampling_is_the_full_margin_softmax():
    embeddings, labels, centres = _batch()
    margin = build_margin("arcface")
    head = PartialFC(margin, 16, 20, sample_rate=1.0)
    head.weight.data.copy_(centres)
    cosine = functional.linear(functional.normalize(embeddings), functional.normalize(centres))
    reference = functional.cross_entropy(margin(cosine, labels), labels)
    torch.testing.assert_close(head(embeddings, labels), reference)


def test_partial_fc_rate_half_matches_full_softmax_when_sampling_is_disabled():
    embeddings, labels, centres = _batch(1)
    full = PartialFC(build_margin("cosface"), 16, 20, sample_rate=1.0)
    sampled = PartialFC(build_margin("cosface"), 16, 20, sample_rate=0.5)
    full.weight.data.copy_(centres)
    sampled.weight.data.copy_(centres)
    sampled.eval()  # evaluation uses every centre
    torch.testing.assert_close(sampled(embeddings, labels), full(embeddings, labels))


def test_partial_fc_sampling_keeps_every_positive_and_updates_only_sampled_centres():
    embeddings, labels, centres = _batch(2, batch=6, classes=40)
    head = PartialFC(build_margin("arcface"), 16, 40, sample_rate=0.5)
    head.weight.data.copy_(centres)
    index, remapped = head._sample(labels, torch.Generator().manual_seed(0))
    assert len(index) == 20 and set(labels.tolist()) <= set(index.tolist())
    assert (index[remapped] == labels).all()
    head(embeddings, labels, generator=torch.Generator().manual_seed(0)).backward()
    touched = (head.weight.grad.abs().sum(dim=1) > 0).nonzero().flatten()
    assert set(touched.tolist()) <= set(index.tolist()) and set(labels.tolist()) <= set(touched.tolist())


def test_focal_loss_with_gamma_zero_is_cross_entropy_and_down_weights_easy_samples():
    embeddings, labels, centres = _batch(3)
    losses = {}
    for loss, gamma in (("ce", 2.0), ("focal", 0.0), ("focal", 2.0)):
        head = PartialFC(build_margin("arcface", s=8.0), 16, 20, loss=loss, gamma=gamma)
        head.weight.data.copy_(centres)
        losses[(loss, gamma)] = head(embeddings, labels).item()
    assert losses[("focal", 0.0)] == pytest.approx(losses[("ce", 2.0)], rel=1e-6)
    assert losses[("focal", 2.0)] < losses[("ce", 2.0)]


def test_unreadable_samples_marked_minus_one_leave_the_loss():
    embeddings, labels, centres = _batch(4)
    head = PartialFC(build_margin("arcface"), 16, 20)
    head.weight.data.copy_(centres)
    marked = labels.clone()
    marked[:4] = -1
    torch.testing.assert_close(head(embeddings, marked), head(embeddings[4:], labels[4:]))


def test_class_shards_cover_every_class_once():
    for classes, world in ((10, 3), (11, 2), (3, 4)):
        ranges = [shard_range(classes, rank, world) for rank in range(world)]
        assert [c for start, end in ranges for c in range(start, end)] == list(range(classes))


def test_bad_head_arguments_are_named():
    with pytest.raises(ValueError, match="one of arcface"):
        build_margin("arcfase")
    with pytest.raises(ValueError, match="sample_rate"):
        PartialFC(build_margin("arcface"), 4, 4, sample_rate=0.0)


def test_two_process_sharded_partial_fc_equals_single_process_softmax(tmp_path):
    """torchrun, 2 gloo processes: the loss and every gradient match the unsharded computation."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29611",
        str(REPO / "tests" / "helpers" / "distributed_partial_fc.py"), str(tmp_path),
    ]  # fmt: skip
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(2)]
    assert results[0]["classes"] == [0, 6] and results[1]["classes"] == [6, 11]
    for result in results:
        assert result["loss"] == pytest.approx(result["reference"], rel=1e-6)
        assert result["centre_grad_error"] < 1e-5
        assert result["embedding_grad_error"] < 1e-5
