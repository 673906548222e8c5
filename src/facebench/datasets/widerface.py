"""WIDER FACE validation ground truth, restricted to the val images actually present.

Reads the official ``wider_face_val.mat`` (events, files, boxes) and the easy/medium/hard
``wider_*_val.mat`` lists of which faces count at each difficulty (the others are "ignored":
matching them is neither rewarded nor punished), as the official evaluation does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facebench.errors import FacebenchError

__all__ = ["DIFFICULTIES", "WiderFaceImage", "WiderFaceVal", "load_widerface_val"]

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")


@dataclass(frozen=True)
class WiderFaceImage:
    event: str
    name: str  # file name without extension, as in the submission format
    path: Path
    boxes_xywh: np.ndarray  # (N, 4) ground-truth boxes
    #: per difficulty, 0-based indices of the faces that count (the rest are ignored)
    kept: dict[str, np.ndarray]


@dataclass(frozen=True)
class WiderFaceVal:
    images: list[WiderFaceImage]
    total_images: int
    total_faces: int

    @property
    def restriction(self) -> str:
        present = len(self.images)
        faces = int(sum(len(image.boxes_xywh) for image in self.images))
        events = sorted({image.event for image in self.images})
        return (
            f"{present} of {self.total_images} val images present ({', '.join(events)}); ground truth restricted "
            f"to them: {faces} of {self.total_faces} faces. Not comparable to full-val AP."
        )


def load_widerface_val(root: str | os.PathLike[str] | None = None) -> WiderFaceVal:
    """Ground truth for the present val images under ``root`` (default ``$FACEBENCH_HOME/data/widerface``)."""
    try:
        from scipy.io import loadmat
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise ImportError("WIDER FACE evaluation needs `pip install 'facebench[metrics]'` (scipy)") from error
    if root is None:
        home = os.environ.get("FACEBENCH_HOME")
        if not home:
            raise FacebenchError("FACEBENCH_HOME is not set: point it at the folder holding data/widerface")
        root = Path(home) / "data" / "widerface"
    root = Path(root)
    truth = root / "ground_truth"
    needed = [truth / "wider_face_val.mat"] + [truth / f"wider_{d}_val.mat" for d in DIFFICULTIES]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise FacebenchError(f"WIDER FACE ground truth missing: {', '.join(missing)}")
    main = loadmat(needed[0])
    settings = {d: loadmat(truth / f"wider_{d}_val.mat")["gt_list"] for d in DIFFICULTIES}
    images, total_images, total_faces = [], 0, 0
    for event_index, event_cell in enumerate(main["event_list"]):
        event = str(event_cell[0][0])
        files = main["file_list"][event_index][0]
        boxes = main["face_bbx_list"][event_index][0]
        for file_index, file_cell in enumerate(files):
            name = str(file_cell[0][0])
            gt = np.asarray(boxes[file_index][0], np.float64).reshape(-1, 4)
            total_images += 1
            total_faces += len(gt)
            path = root / "WIDER_val" / "images" / event / f"{name}.jpg"
            if not path.is_file():
                continue
            kept = {
                d: np.asarray(settings[d][event_index][0][file_index][0], np.int64).reshape(-1) - 1
                for d in DIFFICULTIES
            }
            images.append(WiderFaceImage(event, name, path, gt, kept))
    if not images:
        raise FacebenchError(f"no WIDER FACE val images found under {root / 'WIDER_val' / 'images'}")
    return WiderFaceVal(images, total_images, total_faces)
