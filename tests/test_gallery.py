"""Galleries: every index kind against exact search, add/remove, save/load with its checks, and an
LFW gallery searched with held-back images through the CLI."""

from __future__ import annotations

import ctypes
import json
import mmap
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from facebench.cli import app
from facebench.errors import FacebenchError, MissingExtraError
from facebench.gallery import FaissIndex, Gallery, choose_kind


def _clustered(count: int, dim: int = 512, clusters: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    vectors = centres[rng.integers(0, clusters, count)] + 0.7 * rng.normal(size=(count, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(("kind", "recall"), [("flat", 1.0), ("hnsw", 0.99), ("ivfpq", 0.95)])
def test_every_index_kind_finds_what_exact_search_finds(kind, recall):
    enrolled = _clustered(5000)
    rng = np.random.default_rng(1)
    queries = enrolled[:300] + 0.05 * rng.normal(size=(300, 512)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = np.argmax(queries @ enrolled.T, axis=1)
    index = FaissIndex(512, kind, threads=1)
    index.add(enrolled, np.arange(5000) + 100)
    scores, ids = index.search(queries, 5)
    assert ids.shape == (300, 5) and (np.diff(scores, axis=1) <= 1e-6).all()  # best first
    assert (ids[:, 0] - 100 == exact).mean() >= recall


def test_hnsw_trained_on_a_small_first_batch_still_finds_later_faces_with_exact_scores():
    """The 8-bit codes learn their range from the first vectors; the raw re-rank keeps scores exact."""
    enrolled = _clustered(3000)
    index = FaissIndex(512, "hnsw", threads=1)
    index.add(enrolled[:20], np.arange(20))
    index.add(enrolled[20:], np.arange(20, 3000))
    queries = enrolled[::10]
    scores, ids = index.search(queries, 3)
    exact = queries @ enrolled.T
    assert (ids[:, 0] == np.argmax(exact, axis=1)).mean() >= 0.99
    np.testing.assert_allclose(scores, np.take_along_axis(exact, ids, axis=1), atol=1e-5)
    np.testing.assert_allclose(index.vectors(np.array([5, 2500])), enrolled[[5, 2500]], atol=1e-6)


def _mapping(address: int) -> tuple[int, int, list[str]]:
    """(size kB, AnonHugePages kB, VmFlags) of this process's mapping that holds ``address``."""
    found: dict[str, list[str]] = {}
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if not fields[0].endswith(":"):
            low, high = (int(bound, 16) for bound in fields[0].split("-"))
            inside = low <= address < high
        elif inside:
            found[fields[0]] = fields[1:]
    return int(found["Size:"][0]), int(found["AnonHugePages:"][0]), found["VmFlags:"]


class _Anonymous:
    """A fresh 16 MiB anonymous mapping, shaped like a FAISS vector (``data()``, ``byte_size()``)."""

    def __init__(self) -> None:
        self.memory = mmap.mmap(-1, 16 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.memory.write(b"\x01" * len(self.memory))  # fault every page in: 4 KiB pages
        self.address = ctypes.addressof(ctypes.c_char.from_buffer(self.memory))

    def data(self) -> int:
        return self.address

    def byte_size(self) -> int:
        return len(self.memory)


def test_back_with_huge_pages_collapses_a_mapping_already_faulted_in_on_small_pages():
    """A graph walk misses the TLB on nearly every stored vector with 4 KiB pages."""
    from facebench.gallery.index import _back_with_huge_pages

    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    assert "[never]" not in thp, f"this test needs transparent huge pages, the kernel says {thp!r}"
    buffer = _Anonymous()
    middle = buffer.address + (8 << 20)
    assert _mapping(middle)[1] == 0
    _back_with_huge_pages([buffer])
    _, huge, flags = _mapping(middle)
    assert "hg" in flags and huge >= 14 << 10  # all but the unaligned ends
    assert buffer.memory[: 1 << 20] == b"\x01" * (1 << 20)  # contents kept


def test_hnsw_maps_its_codes_graph_and_raw_vectors_on_huge_pages_after_add_and_load(tmp_path, monkeypatch):
    import facebench.gallery.index as index_module

    advised: list[list[int]] = []
    monkeypatch.setattr(
        index_module,
        "_back_with_huge_pages",
        lambda buffers: advised.append([b.byte_size() for b in buffers]),
    )
    index = FaissIndex(512, "hnsw", threads=1)
    index.add(_clustered(5000), np.arange(5000))
    index.save(str(tmp_path / "g.faiss"))
    FaissIndex.load(str(tmp_path / "g.faiss"), 512, "hnsw", threads=1)
    FaissIndex(512, "flat").add(_clustered(100), np.arange(100))  # exact search reads in order
    graph = 5000 * 64 * 4  # level-0 lists of 2·M neighbours, then the upper levels'
    assert len(advised) == 2 and advised[0] == advised[1]
    assert (
        advised[0][0] == 5000 * 512 and graph <= advised[0][1] < 1.1 * graph and advised[0][2] == 5000 * 2048
    )


def test_auto_picks_by_size_and_ivfpq_needs_training_vectors():
    assert (choose_kind(10_000), choose_kind(1_000_000), choose_kind(5_000_000)) == ("flat", "hnsw", "ivfpq")
    with pytest.raises(ValueError, match="at least 256"):
        FaissIndex(512, "ivfpq").add(_clustered(10), np.arange(10))
    with pytest.raises(ValueError, match="index kind"):
        FaissIndex(512, "lsh")


def test_add_remove_and_rebuild_never_return_a_removed_face():
    vectors = _clustered(400, dim=64, clusters=40)
    gallery = Gallery(index="hnsw")
    gallery._models = (None, None)  # embeddings given directly: no models needed
    gallery.add(vectors, [f"p{i % 40}" for i in range(400)], [f"img{i}.jpg" for i in range(400)])
    assert gallery.remove("p3") == 10 and gallery.size == 390
    results = gallery.search_embeddings(vectors[3::40], k=5)
    assert all(m.identity != "p3" for matches in results for m in matches) and all(
        len(r) == 5 for r in results
    )
    assert gallery.remove(path="img15.jpg") == 1
    for person in range(4, 14):  # past a quarter removed: rebuilt without them
        gallery.remove(f"p{person}")
    assert len(gallery.identities) == 299 and gallery.size == 400 - 10 - 1 - 100  # rebuilt at p12, p13 after
    kept = [i for i in range(400) if i % 40 not in range(3, 14) and i != 15]
    exact = np.argmax(vectors[kept][:50] @ vectors[kept].T, axis=1)
    found = [matches[0].path for matches in gallery.search_embeddings(vectors[kept][:50], k=1)]
    assert found == [f"img{kept[j]}.jpg" for j in exact]
    with pytest.raises(ValueError, match="L2-normalised"):
        gallery.add(2 * vectors[:1], ["x"], ["x.jpg"])


@pytest.fixture(scope="module")
def lfw_people(lfw_root, tmp_path_factory):
    """12 LFW people with 4+ images: all but the last enrolled, the last held back."""
    folder = tmp_path_factory.mktemp("people")
    held_back = {}
    people = [p for p in sorted(lfw_root.iterdir()) if len(list(p.glob("*.jpg"))) >= 4][:12]
    for person in people:
        images = sorted(person.glob("*.jpg"))
        (folder / person.name).mkdir()
        for image in images[:-1][:5]:
            (folder / person.name / image.name).symlink_to(image)
        held_back[person.name] = images[-1]
    return folder, held_back


def test_an_lfw_gallery_finds_held_back_images_at_rank_1(lfw_people, tmp_path):
    folder, held_back = lfw_people
    out = tmp_path / "gallery"
    built = CliRunner().invoke(app, ["index", "build", str(folder), "--out", str(out)])
    assert built.exit_code == 0, built.output
    probes = [str(p) for p in held_back.values()]
    searched = CliRunner().invoke(app, ["index", "search", str(out), *probes, "-k", "3", "--json"])
    assert searched.exit_code == 0, searched.output
    answers = json.loads(searched.stdout)
    assert [a["image"] for a in answers] == probes and all(len(a["matches"]) == 3 for a in answers)
    top = [a["matches"][0]["identity"] for a in answers]
    assert np.mean([t == name for t, name in zip(top, held_back, strict=True)]) >= 11 / 12
    assert set(answers[0]["matches"][0]) == {"identity", "score", "path"}

    rebuilt = CliRunner().invoke(app, ["index", "build", str(folder), "--out", str(out)])  # from the cache
    assert rebuilt.exit_code == 0
    refused = CliRunner().invoke(app, ["index", "search", str(out), probes[0], "-r", "mobilefacenet_tflite"])
    assert refused.exit_code == 1
    assert (
        "built with edgeface_xs_dequant@onnx" in refused.output and "mobilefacenet_tflite" in refused.output
    )


def test_a_probe_without_a_face_gets_an_empty_list_and_an_error(lfw_people, tmp_path):
    import cv2

    folder, _ = lfw_people
    gallery = Gallery.build(folder, cache=tmp_path / "cache")
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.full((200, 200, 3), 128, np.uint8))
    (result,) = gallery.search([grey])
    assert result.matches == () and result.error == "no face found"
    assert result.to_dict() == {"image": str(grey), "matches": [], "error": "no face found"}


def test_a_saved_gallery_is_checked_when_loaded(lfw_people, tmp_path):
    folder, held_back = lfw_people
    gallery = Gallery.build(folder, cache=tmp_path / "cache", index="flat")
    saved = gallery.save(tmp_path / "g")
    loaded = Gallery.load(saved)
    probe = next(iter(held_back.values()))
    assert loaded.search([probe])[0].matches == gallery.search([probe])[0].matches
    parquet = saved / "gallery.parquet"
    parquet.write_bytes(parquet.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(FacebenchError, match="missing or changed"):
        Gallery.load(saved)
    with pytest.raises(FacebenchError, match="not a gallery"):
        Gallery.load(tmp_path)
    with pytest.raises(FacebenchError, match="no identity"):
        Gallery.build(next(iter(held_back.values())).parent, cache=tmp_path / "c2")


def test_a_missing_faiss_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(MissingExtraError, match=r"facebench\[gallery\]"):
        FaissIndex(64, "flat")


def test_open_set_rates_by_hand():
    from facebench.metrics.identification import open_set_rates

    # 10 non-mated top scores 0.1 … 1.0; at FPIR 0.1 one may lie above the threshold: 0.9
    rates = open_set_rates(
        np.array([1, 1, 2]), np.array([0.95, 0.85, 0.99]), np.linspace(0.1, 1.0, 10), (0.01, 0.1, 0.5)
    )
    assert rates["0.01"] is None  # 10 non-mated probes cannot measure 1e-2
    assert rates["0.1"] == pytest.approx(1 / 3)  # 0.95 > 0.9; 0.85 is not; rank 2 never counts
    assert rates["0.5"] == pytest.approx(2 / 3)  # threshold: the 6th highest, 0.5


def test_identification_through_the_index_matches_brute_force(lfw_root, lfw_people, tmp_path):
    from facebench.bench.stages import embed_images
    from facebench.datasets.identities import load_identity_folders
    from facebench.detectors import create as create_detector
    from facebench.gallery.identification import run_identification
    from facebench.metrics.identification import cmc_curve
    from facebench.recognizers import create as create_recognizer

    folder, _ = lfw_people
    singles = tmp_path / "singles"  # people with one LFW image: never enrolled in the open set
    for person in [p for p in sorted(lfw_root.iterdir()) if len(list(p.glob("*.jpg"))) == 1][:15]:
        (singles / person.name).mkdir(parents=True)
        (singles / person.name / "a.jpg").symlink_to(next(person.glob("*.jpg")))
    data = load_identity_folders(folder, 2)
    detector, recognizer = create_detector("yunet"), create_recognizer("mobilefacenet_tflite")
    closed = run_identification(data, detector, recognizer, "similarity", tmp_path / "closed", index="flat")
    vectors, _ = embed_images(detector, recognizer, "similarity", data.images, tmp_path / "closed")
    similarity = (
        np.stack([vectors[str(p)] for p in data.probes]) @ np.stack([vectors[str(p)] for p in data.gallery]).T
    )
    expected = cmc_curve(similarity, data.probe_identity, data.gallery_identity, max_rank=12)
    np.testing.assert_allclose(
        closed.cmc[:12], expected, atol=1e-6
    )  # 12 enrolled: all ranks are in the top 20
    assert closed.dir_at_fpir == {"0.001": None, "0.01": None, "0.1": None}  # no non-mated probe

    non_mated = sorted(singles.rglob("*.jpg"))
    distractors = sorted(singles.rglob("*.jpg"))[:5]
    opened = run_identification(
        data,
        detector,
        recognizer,
        "similarity",
        tmp_path / "open",
        non_mated=non_mated[5:],
        distractors=distractors,
    )
    assert (opened.non_mated_probes, opened.distractors) == (10, 5)
    assert opened.rank1 <= closed.rank1  # distractors can only push a mate down
    assert opened.dir_at_fpir["0.1"] is not None and opened.dir_at_fpir["0.01"] is None
    assert opened.dir_at_fpir["0.1"] <= opened.rank1
    record = json.loads((tmp_path / "open" / "identification.json").read_text())
    assert record["rank1"] == opened.rank1 and record["index"] == "flat"


def test_eval_identification_open_set_and_distractors_from_the_cli(lfw_root, lfw_people, tmp_path):
    folder, _ = lfw_people
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for person in folder.iterdir():
        (mixed / person.name).symlink_to(person, target_is_directory=True)
    for person in [p for p in sorted(lfw_root.iterdir()) if len(list(p.glob("*.jpg"))) == 1][:12]:
        (mixed / person.name).mkdir()
        (mixed / person.name / "a.jpg").symlink_to(next(person.glob("*.jpg")))
    embeddings = tmp_path / "distractors.npy"
    rng = np.random.default_rng(0)
    fake = rng.normal(size=(300, 128))
    np.save(embeddings, (fake / np.linalg.norm(fake, axis=1, keepdims=True)).astype(np.float32))
    arguments = [
        "eval-identification",
        "--data-root",
        str(mixed),
        "-d",
        "yunet",
        "-r",
        "mobilefacenet_tflite@litert",  # NAME@ENGINE, as everywhere
    ]
    result = CliRunner().invoke(
        app, [*arguments, "--open-set", "--distractors", str(embeddings), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "+ 300 distractors" in result.output and "12 non-mated probes" in result.output
    assert "at FPIR 0.1" in result.output
    bad = CliRunner().invoke(app, [*arguments, "--index", "lsh", "--out", str(tmp_path / "o")])
    assert bad.exit_code == 1 and "--index among" in bad.output
