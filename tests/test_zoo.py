"""The model store against the real files in $FACEBENCH_HOME, and against tampered copies."""

import bz2
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from facebench.errors import ChecksumMismatchError, ModelNotFoundError, UnknownNameError
from facebench.zoo import (
    FileState,
    ModelStore,
    Task,
    WeightCard,
    WeightFile,
    get_card,
    list_cards,
    load_npy_verified,
    load_torch_weights,
    register_card,
)
from facebench.zoo.hashing import HashCache, sha256_file
from facebench.zoo.registry import unregister_card


def _models_md_rows(shared_home: Path) -> list[tuple[str, str, str]]:
    """(dir, file, sha256) of every table row in MODELS.md."""
    rows = []
    for line in (shared_home / "models" / "MODELS.md").read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        # one file per row; the MTCNN row lists three files and is checked separately
        if len(cells) > 5 and re.fullmatch(r"[\w.-]+/[\w.-]+", cells[2]):
            digest = re.match(r"[0-9a-f]{64}", cells[4])
            if digest:
                rows.append((cells[2], cells[3], digest.group(0)))
    return rows


def test_every_models_md_file_has_a_card_with_its_hash(shared_home):
    pinned = {
        (card.directory, f.archive or f.filename): f.archive_sha256 or f.sha256
        for card in list_cards()
        for f in card.files
    }
    rows = _models_md_rows(shared_home)
    assert len(rows) >= 15, rows
    for path, _size, digest in rows:
        directory, _, name = path.partition("/")
        assert pinned.get((directory, name)) == digest, f"{path}: card hash differs from MODELS.md"
    mtcnn = {f.filename for f in get_card("mtcnn").files}
    assert mtcnn == {"pnet.npy", "rnet.npy", "onet.npy"}


def test_every_tested_card_is_present_and_verified(shared_home):
    store = ModelStore()
    assert store.home == shared_home
    for card in list_cards():
        if not card.tested_offline:
            continue
        for status in store.status(card):
            assert status.state is FileState.OK, f"{card.name}: {status}"
        for weight_file in card.files:
            assert store.resolve(card, weight_file.filename).is_file()


def test_cards_carry_their_preprocessing_contract():
    edgeface = get_card("edgeface_xs_q")
    assert edgeface.task is Task.RECOGNIZER
    assert edgeface.preprocess.template == "arcface_112" and edgeface.preprocess.embedding_dim == 512
    assert get_card("mobilefacenet_casia").preprocess.input_size == (96, 112)
    assert get_card("yunet").preprocess.color.value == "bgr"
    untested = [c.name for c in list_cards() if not c.tested_offline]
    assert {"sface", "insightface_w600k_mbf", "insightface_w600k_r50", "scrfd_10g"} <= set(untested)
    assert {c.name for c in list_cards(task="landmarks")} >= {"facemesh", "dlib5"}


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownNameError, match="Did you mean 'yunet'"):
        get_card("yunett")


@pytest.fixture
def tampered_home(tmp_path, shared_home) -> Path:
    """A FACEBENCH_HOME whose YuNet copy has one byte changed."""
    target = tmp_path / "models" / "yunet" / "face_detection_yunet_2023mar.onnx"
    target.parent.mkdir(parents=True)
    data = bytearray((shared_home / "models" / "yunet" / target.name).read_bytes())
    data[1000] ^= 0xFF
    target.write_bytes(bytes(data))
    return tmp_path


def test_one_changed_byte_is_refused_on_load(tampered_home, tmp_path):
    store = ModelStore(tampered_home, tmp_path / "cache", allow_download=False)
    assert store.status("yunet")[0].state is FileState.MISMATCH
    with pytest.raises(ChecksumMismatchError, match="sha256 mismatch for model 'yunet'") as caught:
        store.resolve("yunet")
    assert get_card("yunet").files[0].sha256 in str(caught.value)
    from facebench.detectors import create

    with pytest.raises(ChecksumMismatchError):
        create("yunet", store=store)


def test_missing_file_error_names_model_file_hash_url_and_place(tmp_path):
    store = ModelStore(tmp_path / "empty_home", tmp_path / "cache", allow_download=False)
    with pytest.raises(ModelNotFoundError) as caught:
        store.resolve("scrfd_500m")
    message = str(caught.value)
    card = get_card("scrfd_500m")
    for expected in (
        "scrfd_500m",
        "scrfd_500m.onnx",
        card.files[0].sha256,
        card.files[0].url,
        "models/scrfd_det_500m",
    ):
        assert expected in message


def test_explicit_path_is_still_verified(tmp_path, shared_home):
    good = shared_home / "models" / "yunet" / "face_detection_yunet_2023mar.onnx"
    store = ModelStore(tmp_path / "nohome", tmp_path / "cache", allow_download=False)
    assert store.resolve("yunet", path=good) == good
    bad = tmp_path / "other.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ChecksumMismatchError):
        store.resolve("yunet", path=bad)
    with pytest.raises(ModelNotFoundError, match="is not a file"):
        store.resolve("yunet", path=tmp_path / "absent.onnx")


def test_bz2_archive_in_home_is_verified_and_unpacked_once(tmp_path, shared_home):
    store = ModelStore(shared_home, tmp_path / "cache", allow_download=False)
    first = store.resolve("dlib_mmod")
    assert first == tmp_path / "cache" / "dlib_mmod_face" / "mmod_human_face_detector.dat"
    assert sha256_file(first) == get_card("dlib_mmod").files[0].sha256
    mtime = first.stat().st_mtime_ns
    assert store.resolve("dlib_mmod") == first and first.stat().st_mtime_ns == mtime


def test_corrupt_archive_is_refused_before_unpacking(tmp_path, shared_home):
    home = tmp_path / "home"
    archive = home / "models" / "dlib_mmod_face" / "mmod_human_face_detector.dat.bz2"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(bz2.compress(b"something else"))
    store = ModelStore(home, tmp_path / "cache", allow_download=False)
    with pytest.raises(ChecksumMismatchError):
        store.resolve("dlib_mmod")
    assert not (tmp_path / "cache" / "dlib_mmod_face" / "mmod_human_face_detector.dat").exists()


def test_hash_cache_recomputes_only_when_the_file_changes(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"one")
    cache = HashCache(tmp_path / "hashes.json")
    first = cache.sha256(path)
    assert HashCache(tmp_path / "hashes.json").sha256(path) == first  # persisted
    path.write_bytes(b"two!")
    os.utime(path, ns=(1, 1))
    assert cache.sha256(path) == sha256_file(path) != first


@pytest.fixture
def temporary_card(tmp_path):
    created: list[str] = []

    def make(name: str, payload: bytes, filename: str) -> WeightCard:
        path = tmp_path / "home" / "models" / name / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        card = WeightCard(
            name=name,
            task=Task.RECOGNIZER,
            directory=name,
            files=(WeightFile(filename, sha256_file(path), "http://127.0.0.1:9/none", size=len(payload)),),
            license="test",
            source="generated by the test",
        )
        register_card(card)
        created.append(name)
        return card

    yield make
    for name in created:
        unregister_card(name)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_torch_loading_never_executes_pickled_code(tmp_path, temporary_card):
    import torch

    buffer = tmp_path / "evil.pt"
    torch.save({"weight": torch.zeros(2), "payload": _Exploit()}, buffer)
    temporary_card("test_evil_checkpoint", buffer.read_bytes(), "evil.pt")
    store = ModelStore(tmp_path / "home", tmp_path / "cache", allow_download=False)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load_torch_weights("test_evil_checkpoint", store=store)


def test_real_checkpoints_load_with_weights_only():
    state = load_torch_weights("retinaface_mnet025")
    assert len(state) == 300
    pnet = load_npy_verified("mtcnn", "pnet.npy")
    assert isinstance(pnet, dict) and "features.conv1.weight" in pnet


def test_pickled_npy_is_not_loaded_when_its_hash_differs(tmp_path, shared_home):
    home = tmp_path / "home"
    shutil.copytree(shared_home / "models" / "mtcnn", home / "models" / "mtcnn")
    target = home / "models" / "mtcnn" / "pnet.npy"
    target.chmod(0o644)
    np.save(target, np.array({"tampered": 1}, dtype=object), allow_pickle=True)
    store = ModelStore(home, tmp_path / "cache", allow_download=False)
    with pytest.raises(ChecksumMismatchError):
        load_npy_verified("mtcnn", "pnet.npy", store=store)
