"""The model store: find a model's files, verify them, fetch them, or say exactly what is missing.

Resolution order for each file of a weight card:

1. an explicit path given by the caller;
2. ``$FACEBENCH_HOME/models/<card.directory>/<file>``;
3. the user cache, ``$FACEBENCH_CACHE`` or ``~/.cache/facebench``, at ``<directory>/<file>``;
4. a PyPI package that ships the file (``face_recognition_models``, OpenCV's cascades);
5. a download from the card's canonical URL (progress bar, retries, temp file plus atomic rename,
   ``.bz2``/``.zip`` unpacking);
6. a `ModelNotFoundError` naming the model, the file, the expected sha256, the URL and where to
   put the file.

In 2 and 3 a compressed archive (``file.bz2``) is accepted too and unpacked into the cache. Every
file's sha256 is checked against the card before it is returned; a mismatch raises
`ChecksumMismatchError`.
"""

from __future__ import annotations

import bz2
import importlib.util
import os
import tempfile
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from facebench._log import logger
from facebench.errors import ArchiveError, ChecksumMismatchError, DownloadError, ModelNotFoundError
from facebench.zoo.cards import PackageFiles, WeightCard, WeightFile
from facebench.zoo.download import download_file
from facebench.zoo.hashing import sha256_bytes, sha256_file
from facebench.zoo.registry import get_card

__all__ = [
    "ENV_CACHE",
    "ENV_HOME",
    "ENV_OFFLINE",
    "FileState",
    "FileStatus",
    "ModelStore",
    "default_store",
    "resolve",
]

ENV_HOME = "FACEBENCH_HOME"
ENV_CACHE = "FACEBENCH_CACHE"
ENV_OFFLINE = "FACEBENCH_OFFLINE"


class FileState(StrEnum):
    OK = "ok"
    MISSING = "missing"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class FileStatus:
    """Where a card's file was found and whether its hash matches."""

    model: str
    filename: str
    state: FileState
    path: Path | None
    expected_sha256: str
    actual_sha256: str | None = None


def _package_folder(package: PackageFiles) -> Path | None:
    """The package's data folder, found without importing it (importing some needs pkg_resources)."""
    try:
        spec = importlib.util.find_spec(package.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / package.subdir


class ModelStore:
    """Finds, verifies and fetches model files.

    Args:
        home: root holding ``models/<dir>/<file>``; default ``$FACEBENCH_HOME``.
        cache_dir: writable cache; default ``$FACEBENCH_CACHE`` or ``~/.cache/facebench``.
        allow_download: try the canonical URL when no local copy exists; default true unless
            ``$FACEBENCH_OFFLINE`` is set.
        show_progress: draw a progress bar while downloading.
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        allow_download: bool | None = None,
        show_progress: bool = True,
    ) -> None:
        home = home if home is not None else os.environ.get(ENV_HOME) or None
        self.home = Path(home).expanduser().resolve() if home else None
        cache = cache_dir if cache_dir is not None else os.environ.get(ENV_CACHE) or "~/.cache/facebench"
        self.cache_dir = Path(cache).expanduser().resolve()
        if allow_download is None:
            allow_download = os.environ.get(ENV_OFFLINE, "").strip().lower() in ("", "0", "false", "no")
        self.allow_download = allow_download
        self.show_progress = show_progress

    # -- where files may be -------------------------------------------------------------------
    def search_folders(self, card: WeightCard) -> list[Path]:
        """The folders searched for ``card``'s files, in resolution order (explicit path aside)."""
        folders = []
        if self.home is not None:
            folders.append(self.home / "models" / card.directory)
        folders.append(self.cache_dir / card.directory)
        if card.package is not None and (package_folder := _package_folder(card.package)) is not None:
            folders.append(package_folder)
        return folders

    def cache_path(self, card: WeightCard, weight_file: WeightFile) -> Path:
        return self.cache_dir / card.directory / weight_file.filename

    # -- verification -------------------------------------------------------------------------
    def check(self, path: Path, card: WeightCard, weight_file: WeightFile) -> None:
        """Raise `ChecksumMismatchError` unless ``path`` hashes to the card's sha256."""
        actual = sha256_file(path)
        if actual != weight_file.sha256:
            raise ChecksumMismatchError(str(path), weight_file.sha256, actual, card.name)

    def status(self, card: WeightCard | str) -> list[FileStatus]:
        """The state of each of the card's files: first copy found, and whether its hash matches.

        Never downloads or unpacks; a file present only as an archive counts as present when the
        archive's hash matches (it is unpacked on first use).
        """
        card = get_card(card) if isinstance(card, str) else card
        out = []
        for weight_file in card.files:
            found = self._find_local(card, weight_file)
            if found is None:
                out.append(
                    FileStatus(card.name, weight_file.filename, FileState.MISSING, None, weight_file.sha256)
                )
                continue
            path, is_archive = found
            expected = weight_file.archive_sha256 if is_archive else weight_file.sha256
            actual = sha256_file(path)  # always re-hashed: a verdict cache can be fooled
            state = FileState.OK if expected is None or actual == expected else FileState.MISMATCH
            out.append(FileStatus(card.name, weight_file.filename, state, path, expected or "", actual))
        return out

    # -- resolution ---------------------------------------------------------------------------
    def _find_local(self, card: WeightCard, weight_file: WeightFile) -> tuple[Path, bool] | None:
        """First local copy of the file, else of its archive: (path, is_archive).

        Unpacked files anywhere win over archives, so an archive in a read-only
        ``$FACEBENCH_HOME`` is unpacked into the cache once, not on every call.
        """
        folders = self.search_folders(card)
        for folder in folders:
            if (folder / weight_file.filename).is_file():
                return folder / weight_file.filename, False
        if weight_file.archive is not None:
            for folder in folders:
                if (folder / weight_file.archive).is_file():
                    return folder / weight_file.archive, True
        return None

    def resolve(
        self,
        card: WeightCard | str,
        filename: str | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
    ) -> Path:
        """The verified local path of one of ``card``'s files (its only file by default).

        Raises:
            ChecksumMismatchError: a copy was found but its sha256 differs from the card's.
            ModelNotFoundError: no copy anywhere and no download possible.
        """
        card = get_card(card) if isinstance(card, str) else card
        return self._locate(card, card.file(filename), path, check=True)

    def _locate(
        self, card: WeightCard, weight_file: WeightFile, path: str | os.PathLike[str] | None, *, check: bool
    ) -> Path:
        """Where the file is; a copy found as-is is hashed here only with ``check`` (files this
        store unpacks or downloads are always verified before they are returned)."""
        if path is not None:
            explicit = Path(path).expanduser()
            if not explicit.is_file():
                raise ModelNotFoundError(
                    f"model '{card.name}': the explicit path {explicit} for {weight_file.filename} is not a file"
                )
            if check:
                self.check(explicit, card, weight_file)
            return explicit

        found = self._find_local(card, weight_file)
        if found is not None:
            local, is_archive = found
            if not is_archive:
                if check:
                    self.check(local, card, weight_file)
                return local
            return self._unpack(local, card, weight_file)

        if self.allow_download:
            try:
                return self._download(card, weight_file)
            except (DownloadError, OSError) as error:
                raise self._not_found(card, weight_file, f"download failed: {error}") from error
        raise self._not_found(card, weight_file, f"downloads are disabled (${ENV_OFFLINE} is set)")

    def read_verified(
        self,
        card: WeightCard | str,
        filename: str | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
    ) -> tuple[Path, bytes]:
        """The bytes of one of ``card``'s files, hashed *as read* and checked against the card.

        Loaders that deserialise (pickles, torch checkpoints) parse these bytes rather than the
        path, so the file cannot be swapped between the check and the load.

        Raises:
            ChecksumMismatchError: the bytes read differ from the card's sha256.
            ModelNotFoundError: no copy anywhere and no download possible.
        """
        card = get_card(card) if isinstance(card, str) else card
        weight_file = card.file(filename)
        # hashed once, as read: the bytes checked are the bytes returned
        resolved = self._locate(card, weight_file, path, check=False)
        data = resolved.read_bytes()
        actual = sha256_bytes(data)
        if actual != weight_file.sha256:
            raise ChecksumMismatchError(str(resolved), weight_file.sha256, actual, card.name)
        return resolved, data

    def resolve_all(self, card: WeightCard | str) -> dict[str, Path]:
        """Verified paths of all of a card's files, keyed by filename."""
        card = get_card(card) if isinstance(card, str) else card
        return {f.filename: self.resolve(card, f.filename) for f in card.files}

    def _unpack(self, archive: Path, card: WeightCard, weight_file: WeightFile) -> Path:
        in_cache = archive.is_relative_to(self.cache_dir)
        if weight_file.archive_sha256 is not None:
            actual = sha256_file(archive)
            if actual != weight_file.archive_sha256:
                if in_cache:  # facebench's own copy (a download): never keep a bad one around
                    archive.unlink(missing_ok=True)
                raise ChecksumMismatchError(str(archive), weight_file.archive_sha256, actual, card.name)
        target = self.cache_path(card, weight_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        limit = weight_file.size if weight_file.size is not None else _UNPACK_LIMIT
        logger.info("unpacking %s into %s", archive, target)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                if archive.name.endswith(".bz2"):
                    with bz2.open(archive, "rb") as source:
                        _copy_capped(source, out, limit, archive)
                else:
                    with (
                        zipfile.ZipFile(archive) as bundle,
                        bundle.open(str(weight_file.archive_member)) as source,
                    ):
                        _copy_capped(source, out, limit, archive)
            try:
                self.check(Path(tmp_name), card, weight_file)
            except ChecksumMismatchError:
                if in_cache:
                    archive.unlink(missing_ok=True)
                raise
            os.replace(tmp_name, target)
        except (OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
            Path(tmp_name).unlink(missing_ok=True)
            if in_cache:
                archive.unlink(missing_ok=True)
            raise ArchiveError(
                f"model '{card.name}': cannot unpack {archive}: {error}"
                + (" (deleted; it will be fetched again)" if in_cache else "")
            ) from None
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return target

    def _download(self, card: WeightCard, weight_file: WeightFile) -> Path:
        if weight_file.archive is None:
            target = self.cache_path(card, weight_file)
            logger.info(
                "downloading %s for model '%s' from %s", weight_file.filename, card.name, weight_file.url
            )
            download_file(
                weight_file.url,
                target,
                sha256=weight_file.sha256,
                size=weight_file.size,
                show_progress=self.show_progress,
            )
            return target
        archive = self.cache_dir / card.directory / weight_file.archive
        download_file(
            weight_file.url,
            archive,
            sha256=weight_file.archive_sha256,
            size=weight_file.archive_size,
            show_progress=self.show_progress,
        )
        return self._unpack(archive, card, weight_file)

    def _not_found(self, card: WeightCard, weight_file: WeightFile, why: str) -> ModelNotFoundError:
        places = [str(folder / weight_file.filename) for folder in self.search_folders(card)]
        home_hint = (
            f"{self.home / 'models' / card.directory / weight_file.filename}"
            if self.home is not None
            else f"$FACEBENCH_HOME/models/{card.directory}/{weight_file.filename} (FACEBENCH_HOME is not set)"
        )
        package_hint = f" or `pip install {card.package.distribution}`" if card.package else ""
        return ModelNotFoundError(
            f"model '{card.name}' needs {weight_file.filename} (sha256 {weight_file.sha256}), which is missing.\n"
            f"  looked in: {', '.join(places)}\n"
            f"  {why}\n"
            f"  fetch it from {weight_file.url}\n"
            f"  and put it at {home_hint} or {self.cache_path(card, weight_file)}{package_hint}."
        )


#: the unpacking cap for a card file whose size is not published
_UNPACK_LIMIT = 4 << 30


def _copy_capped(source: Any, out: Any, limit: int, archive: Path) -> None:
    """Copy in 1 MiB chunks, refusing to write more than ``limit`` bytes (a decompression bomb)."""
    written = 0
    while chunk := source.read(1 << 20):
        written += len(chunk)
        if written > limit:
            raise OSError(f"it unpacks to more than the {limit:,} bytes its weight card allows")
        out.write(chunk)


_DEFAULT: ModelStore | None = None
_DEFAULT_KEY: tuple[str | None, str | None, str | None] | None = None


def default_store() -> ModelStore:
    """A store configured from the environment; rebuilt when the relevant variables change."""
    global _DEFAULT, _DEFAULT_KEY
    key = (os.environ.get(ENV_HOME), os.environ.get(ENV_CACHE), os.environ.get(ENV_OFFLINE))
    if _DEFAULT is None or key != _DEFAULT_KEY:
        _DEFAULT, _DEFAULT_KEY = ModelStore(), key
    return _DEFAULT


def resolve(name: str, filename: str | None = None, *, path: str | os.PathLike[str] | None = None) -> Path:
    """Shortcut for ``default_store().resolve(name, filename, path=path)``."""
    return default_store().resolve(name, filename, path=path)
