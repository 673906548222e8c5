"""The download path for real, against an http.server on 127.0.0.1."""

import bz2
import hashlib
import http.server
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from facebench.errors import ChecksumMismatchError, DownloadError, ModelNotFoundError
from facebench.zoo import ModelStore, Task, WeightCard, WeightFile, register_card
from facebench.zoo.download import download_file
from facebench.zoo.registry import unregister_card

pytestmark = pytest.mark.core  # runs on the core install alone

PAYLOAD = bytes(range(256)) * 400  # 100 KiB
ARCHIVE = bz2.compress(PAYLOAD)


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        if self.path == "/good.bin":
            self._send(PAYLOAD)
        elif self.path == "/model.bin.bz2":
            self._send(ARCHIVE)
        elif self.path == "/truncated.bin":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_error(404)

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


GOOD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


def _no_partials(folder: Path) -> bool:
    return not any(p.name.endswith(".part") for p in folder.rglob("*"))


def test_good_download_lands_atomically(server, tmp_path):
    target = tmp_path / "models" / "good.bin"
    download_file(f"{server}/good.bin", target, sha256=GOOD_SHA, size=len(PAYLOAD), show_progress=False)
    assert target.read_bytes() == PAYLOAD and _no_partials(tmp_path)


def test_bad_hash_is_refused_and_nothing_is_written(server, tmp_path):
    target = tmp_path / "models" / "good.bin"
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        download_file(f"{server}/good.bin", target, sha256="0" * 64, show_progress=False)
    assert not target.exists() and _no_partials(tmp_path)


def test_truncated_transfer_is_retried_then_reported(server, tmp_path):
    target = tmp_path / "models" / "t.bin"
    _Handler.hits.pop("/truncated.bin", None)
    with pytest.raises(DownloadError, match="truncated"):
        download_file(
            f"{server}/truncated.bin", target, sha256=GOOD_SHA, retries=2, backoff=0.01, show_progress=False
        )
    assert _Handler.hits["/truncated.bin"] == 2
    assert not target.exists() and _no_partials(tmp_path)


def test_http_404_is_not_retried(server, tmp_path):
    _Handler.hits.pop("/absent.bin", None)
    with pytest.raises(DownloadError, match="Not Found"):
        download_file(
            f"{server}/absent.bin",
            tmp_path / "a.bin",
            sha256=GOOD_SHA,
            retries=3,
            backoff=0.01,
            show_progress=False,
        )
    assert _Handler.hits["/absent.bin"] == 1


@pytest.fixture
def served_cards(server):
    cards = [
        WeightCard(
            name="test_served_plain",
            task=Task.DETECTOR,
            directory="test_served",
            files=(WeightFile("good.bin", GOOD_SHA, f"{server}/good.bin", size=len(PAYLOAD)),),
            license="test",
            source="local server",
        ),
        WeightCard(
            name="test_served_bz2",
            task=Task.DETECTOR,
            directory="test_served",
            files=(
                WeightFile(
                    "model.bin",
                    GOOD_SHA,
                    f"{server}/model.bin.bz2",
                    size=len(PAYLOAD),
                    archive="model.bin.bz2",
                    archive_sha256=hashlib.sha256(ARCHIVE).hexdigest(),
                ),
            ),
            license="test",
            source="local server",
        ),
        WeightCard(
            name="test_served_badhash",
            task=Task.DETECTOR,
            directory="test_served",
            files=(WeightFile("other.bin", "1" * 64, f"{server}/good.bin"),),
            license="test",
            source="local server",
        ),
    ]
    for card in cards:
        register_card(card)
    yield cards
    for card in cards:
        unregister_card(card.name)


def test_store_downloads_into_the_cache_then_reuses_it(served_cards, tmp_path):
    store = ModelStore(tmp_path / "home", tmp_path / "cache", allow_download=True, show_progress=False)
    _Handler.hits.pop("/good.bin", None)
    path = store.resolve("test_served_plain")
    assert path == tmp_path / "cache" / "test_served" / "good.bin" and path.read_bytes() == PAYLOAD
    assert store.resolve("test_served_plain") == path
    assert _Handler.hits["/good.bin"] == 1


def test_store_downloads_and_unpacks_bz2(served_cards, tmp_path):
    store = ModelStore(None, tmp_path / "cache", allow_download=True, show_progress=False)
    path = store.resolve("test_served_bz2")
    assert path.name == "model.bin" and path.read_bytes() == PAYLOAD


def test_store_reports_a_bad_download_as_missing_with_the_reason(served_cards, tmp_path):
    store = ModelStore(None, tmp_path / "cache", allow_download=True, show_progress=False)
    with pytest.raises(ModelNotFoundError, match="download failed: sha256 mismatch"):
        store.resolve("test_served_badhash")


def test_cached_copy_tampered_after_download_is_refused(served_cards, tmp_path):
    store = ModelStore(None, tmp_path / "cache", allow_download=True, show_progress=False)
    path = store.resolve("test_served_plain")
    path.write_bytes(PAYLOAD[:-1] + b"\x00")
    with pytest.raises(ChecksumMismatchError):
        store.resolve("test_served_plain")
