"""The model store against the real files in $FACEBENCH_HOME, and against tampered copies."""

import bz2
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from facebench.errors import (
    ArchiveError,
    ChecksumMismatchError,
    FacebenchError,
    ModelNotFoundError,
    UnknownNameError,
)
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
from facebench.zoo.hashing import sha256_file
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


class _Planted:
    """A pickle payload that, if ever executed, leaves a marker file behind."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil_npy(marker: Path, size: int | None = None) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array({"features.conv1.weight": _Planted(marker)}, dtype=object), allow_pickle=True)
    data = buffer.getvalue()
    if size is not None:  # pickle ignores what follows its STOP opcode: pad to the genuine size
        assert len(data) <= size
        data += b"\0" * (size - len(data))
    return data


def test_in_place_swap_with_restored_size_and_mtime_is_caught_and_runs_nothing(tmp_path, shared_home):
    """The attack on the old (path, size, mtime) verdict cache: rewrite, then `touch -r` back."""
    home = tmp_path / "home"
    shutil.copytree(shared_home / "models" / "mtcnn", home / "models" / "mtcnn")
    target = home / "models" / "mtcnn" / "pnet.npy"
    target.chmod(0o644)
    genuine = target.read_bytes()
    store = ModelStore(home, tmp_path / "cache", allow_download=False)
    assert load_npy_verified("mtcnn", "pnet.npy", store=store)  # verified once: the old cache's entry
    assert all(s.state is FileState.OK for s in store.status("mtcnn"))
    stat = target.stat()

    marker = tmp_path / "pwned"
    target.write_bytes(_evil_npy(marker, stat.st_size))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert target.stat().st_size == stat.st_size and target.stat().st_mtime_ns == stat.st_mtime_ns

    for fresh in (store, ModelStore(home, tmp_path / "cache", allow_download=False)):
        with pytest.raises(ChecksumMismatchError, match=r"pnet\.npy"):
            load_npy_verified("mtcnn", "pnet.npy", store=fresh)
        assert {s.filename: s.state for s in fresh.status("mtcnn")}["pnet.npy"] is FileState.MISMATCH
    assert not marker.exists()

    # the genuine file restored (same size and mtime again): no stale "mismatch" verdict survives
    target.write_bytes(genuine)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert all(s.state is FileState.OK for s in store.status("mtcnn"))
    assert "features.conv1.weight" in load_npy_verified("mtcnn", "pnet.npy", store=store)


def test_models_verify_rehashes_a_file_swapped_in_place(tmp_path, shared_home):
    from typer.testing import CliRunner

    from facebench.cli import app

    home = tmp_path / "home"
    shutil.copytree(shared_home / "models" / "mtcnn", home / "models" / "mtcnn")
    target = home / "models" / "mtcnn" / "rnet.npy"
    target.chmod(0o644)
    env = {"FACEBENCH_HOME": str(home), "FACEBENCH_CACHE": str(tmp_path / "cache")}
    assert CliRunner().invoke(app, ["models", "verify", "mtcnn"], env=env).exit_code == 0
    stat = target.stat()
    target.write_bytes(_evil_npy(tmp_path / "pwned", stat.st_size))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = CliRunner().invoke(app, ["models", "verify", "mtcnn"], env=env)
    assert result.exit_code == 1 and "rnet.npy" in result.output and "mismatch" in result.output


def test_object_npy_with_a_matching_hash_still_cannot_run_code(tmp_path, temporary_card):
    """Even a file the card pins (a hostile card, or a poisoned release) is parsed restrictedly."""
    marker = tmp_path / "pwned"
    temporary_card("test_evil_npy", _evil_npy(marker), "evil.npy")
    store = ModelStore(tmp_path / "home", tmp_path / "cache", allow_download=False)
    with pytest.raises(pickle.UnpicklingError, match=r"refused to load global posix\.system"):
        load_npy_verified("test_evil_npy", store=store)
    assert not marker.exists()


def test_restricted_unpickler_reads_plain_and_legacy_weight_dicts():
    import io

    from facebench.zoo.safe_load import load_npy_bytes

    buffer = io.BytesIO()
    weights = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.int64(3), "names": ["a", "b"]}
    np.save(buffer, np.array(weights, dtype=object), allow_pickle=True)
    loaded = load_npy_bytes(buffer.getvalue())
    assert loaded.keys() == weights.keys() and (loaded["w"] == weights["w"]).all() and loaded["n"] == 3
    buffer = io.BytesIO()
    np.save(buffer, np.eye(3))  # a plain array never reaches any unpickler
    assert (load_npy_bytes(buffer.getvalue()) == np.eye(3)).all()
    with pytest.raises(pickle.UnpicklingError, match=r"not a valid \.npy"):
        load_npy_bytes(b"not an npy file at all")


def test_a_file_swapped_after_resolve_is_never_parsed(tmp_path, temporary_card, monkeypatch):
    """Loaders parse the bytes they hashed: swapping the file right after the check changes nothing."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array({"ok": np.zeros(2)}, dtype=object), allow_pickle=True)
    card = temporary_card("test_swap_npy", buffer.getvalue(), "w.npy")
    store = ModelStore(tmp_path / "home", tmp_path / "cache", allow_download=False)
    marker = tmp_path / "pwned"
    original_locate = ModelStore._locate

    def locate_then_swap(self, *args, **kwargs):
        path = original_locate(self, *args, **kwargs)
        path.write_bytes(_evil_npy(marker))  # the attacker wins the race right after the file is found
        return path

    monkeypatch.setattr(ModelStore, "_locate", locate_then_swap)
    with pytest.raises(ChecksumMismatchError):
        load_npy_verified(card.name, store=store)
    assert not marker.exists()


def test_archive_that_unpacks_past_its_card_size_is_refused_and_deleted(tmp_path):
    payload = b"\0" * 4096
    card = WeightCard(
        name="test_bomb_archive",
        task=Task.DETECTOR,
        directory="bomb",
        files=(
            WeightFile(
                "w.bin", "0" * 64, "http://127.0.0.1:9/w.bin.bz2", size=len(payload), archive="w.bin.bz2"
            ),
        ),
        license="test",
        source="generated by the test",
    )
    archive = tmp_path / "cache" / "bomb" / "w.bin.bz2"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(bz2.compress(payload * 1000))  # 4 KB card size, 4 MB inside a tiny archive
    store = ModelStore(tmp_path / "empty-home", tmp_path / "cache", allow_download=False)
    with pytest.raises(ArchiveError, match="more than the 4,096 bytes"):
        store.resolve(card)
    assert not archive.exists()  # facebench's own cached copy is deleted, not left to fail again
    assert list(archive.parent.iterdir()) == []  # and no partial output remains


def test_cached_archive_with_a_bad_hash_is_deleted(tmp_path):
    archive = tmp_path / "cache" / "dlib_mmod_face" / "mmod_human_face_detector.dat.bz2"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(bz2.compress(b"something else"))
    store = ModelStore(tmp_path / "empty-home", tmp_path / "cache", allow_download=False)
    with pytest.raises(ChecksumMismatchError):
        store.resolve("dlib_mmod")
    assert not archive.exists()


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
    with pytest.raises(FacebenchError, match=r"GLOBAL posix\.system.*does not execute code"):
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
