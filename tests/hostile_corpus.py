"""A corpus of hostile and broken image files, generated on the fly (nothing is committed).

`build_corpus(folder, face)` writes every case into ``folder`` and returns the bad ones (path and
a fragment of the reason facebench must give) and the good ones (which must be processed). The
file names themselves are part of the attack: one holds a newline, one bytes that are not UTF-8.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Case:
    path: Path
    reason: str  # a fragment of the reason; "" for a good file
    in_csv: bool = True  # a CSV is UTF-8 text: a name with non-UTF-8 bytes cannot be written in one


def png_with_declared_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width×height (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _encoded(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **params)
    return buffer.getvalue()


def build_corpus(folder: Path, face: Path) -> tuple[list[Case], list[Case]]:
    """Write the corpus; returns (bad cases, good cases). ``face`` is a real face photo (JPEG)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    gradient = Image.fromarray(np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1)))
    jpeg = _encoded(Image.open(face).convert("RGB"), format="JPEG", quality=90)
    bad: list[Case] = []

    def write(name: str | bytes, payload: bytes, reason: str, **extra) -> Path:
        path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(name))))
        path.write_bytes(payload)
        bad.append(Case(path, reason, **extra))
        return path

    # the cases the loader already refused
    write("empty.jpg", b"", "empty file")
    write("random.jpg", bytes(rng.integers(0, 256, 4096, dtype=np.uint8)), "not a recognised image")
    write("text.png", b"this is not a png at all", "not a recognised image")
    write("truncated.jpg", jpeg[: len(jpeg) // 3], "truncated")
    bad.append(Case(folder / "missing.jpg", "no such file"))
    (folder / "a_folder.jpg").mkdir()
    bad.append(Case(folder / "a_folder.jpg", "is a directory"))
    write("bomb.png", png_with_declared_size(100_000, 100_000), "decompression bomb")
    write("huge_declared.png", png_with_declared_size(12_000, 12_000), "exceeds the limit")
    write("png_header_garbage_body.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "")
    write("zero_byte_behind_valid_name.png", b"", "empty file")
    write("jpeg_magic_only.jpg", b"\xff\xd8\xff\xe0" + bytes(64), "")
    write("gif_header_only.gif", b"GIF89a\x10\x00\x10\x00", "")
    # formats outside the allow-list, refused by content whatever the name says
    write(
        "postscript.jpg",
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
        "EPS files are not accepted",
    )
    write("document.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "PDF files are not accepted")
    write(
        "drawing.png",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "SVG files are not accepted",
    )
    write("icon.jpg", _encoded(gradient.convert("RGB"), format="ICO"), "ICO files are not accepted")
    write("targa.jpg", _encoded(gradient.convert("RGB"), format="TGA"), "not a recognised image")
    write("pcx.png", _encoded(gradient.convert("RGB"), format="PCX"), "not a recognised image")
    # numeric poison in an accepted format
    nan = np.full((16, 16), 0.5, np.float32)
    nan[3, 4] = np.nan
    write("nan.tif", _encoded(Image.fromarray(nan, "F"), format="TIFF"), "NaN")
    inf = np.full((16, 16), 0.5, np.float32)
    inf[0, 0] = np.inf
    write("inf.tif", _encoded(Image.fromarray(inf, "F"), format="TIFF"), "infinity")
    # file-system tricks
    fifo = folder / "fifo.jpg"
    os.mkfifo(fifo)
    bad.append(Case(fifo, "not a regular file (a FIFO)"))
    os.symlink(folder / "loop_b.jpg", folder / "loop_a.jpg")
    os.symlink(folder / "loop_a.jpg", folder / "loop_b.jpg")
    bad.append(Case(folder / "loop_a.jpg", "symlink loop"))
    os.symlink(folder / "nowhere.jpg", folder / "dangling.jpg")
    bad.append(Case(folder / "dangling.jpg", "no such file"))
    locked = write("unreadable.jpg", jpeg, "permission denied")
    locked.chmod(0)
    # hostile names (with contents that are broken too, so each must be named in a failure line)
    write("new\nline.jpg", b"not an image", "not a recognised image")
    write(b"latin1_caf\xe9.jpg", jpeg[:100], "", in_csv=False)

    good = [
        Case(folder / "face.jpg", ""),
        Case(folder / "strip_1xN.png", ""),
        Case(folder / "strip_Nx1.png", ""),
        Case(folder / "face with\nnewline.jpg", ""),
        Case(folder / "first_frame.gif", ""),
        Case(folder / "float.tif", ""),
    ]
    shutil.copyfile(face, good[0].path)
    Image.new("RGB", (2000, 1), (90, 120, 150)).save(good[1].path)
    Image.new("RGB", (1, 2000), (90, 120, 150)).save(good[2].path)
    shutil.copyfile(face, good[3].path)
    frames = [Image.open(face).convert("RGB").quantize(64), Image.new("P", Image.open(face).size)]
    frames[0].save(good[4].path, save_all=True, append_images=frames[1:])
    Image.fromarray(np.full((32, 32), 0.25, np.float32), "F").save(good[5].path)
    return bad, good
