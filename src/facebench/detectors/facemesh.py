"""MediaPipe FaceMesh (468 points) as a landmark refiner, through LiteRT.

As in MediaPipe's face-landmark graph, the crop is a square around the detected box enlarged 1.5×,
rotated so the eyes are level (when the detector gave eyes), resized to 192×192. The mesh is mapped
back to the image and reduced to facebench's 5 points: each eye centre is the midpoint of its two
corners (mesh 33/133 for the subject's right eye, 362/263 for the left), the nose tip is 1 and the
mouth corners are 61 and 291.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from facebench.detectors.refiners import Refiner, register_refiner
from facebench.ops.blob import to_blob
from facebench.ops.runtime import litert_interpreter
from facebench.zoo.cards import ColorOrder, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import MEDIAPIPE, github_raw

__all__ = ["FaceMesh"]

_RIGHT_EYE, _LEFT_EYE, _NOSE_TIP, _MOUTH = (33, 133), (362, 263), 1, (61, 291)
_ROI_SCALE = 1.5


FACEMESH_CARD = WeightCard(
    name="facemesh",
    task=Task.LANDMARKS,
    directory="mediapipe_face_landmark",
    files=(
        WeightFile(
            "face_landmark.tflite",
            "c603fa6149219a3e9487dc9abd7a0c24474c77263273d24868378cdf40aa26d1",
            github_raw(*MEDIAPIPE, "mediapipe/modules/face_landmark/face_landmark.tflite"),
            size=1241896,
        ),
    ),
    license="Apache-2.0 (Google MediaPipe)",
    source="google-ai-edge/mediapipe@63e679d:mediapipe/modules/face_landmark/face_landmark.tflite",
    paper="Kartynnik et al., Real-time Facial Surface Geometry from Monocular Video on Mobile GPUs, 2019",
    preprocess=Preprocess(
        input_size=(192, 192), size_policy="crop", color=ColorOrder.RGB, std=(255.0,) * 3, layout="nhwc"
    ),
    notes="468 (x,y,z) points in 192-px crop coordinates plus a face-presence logit.",
)


@register_refiner(card=FACEMESH_CARD)
class FaceMesh(Refiner):
    name: ClassVar[str] = "facemesh"
    requires: ClassVar[tuple[str, ...]] = ("ai_edge_litert",)

    def _load(self) -> None:
        self.interpreter = litert_interpreter(self.store.resolve(self.card, path=self.weights), self.threads)
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        outputs = sorted(self.interpreter.get_output_details(), key=lambda d: int(d["shape"][-1]))
        self.presence_index, self.mesh_index = outputs[0]["index"], outputs[1]["index"]
        assert self.card.preprocess.input_size is not None
        self.side = self.card.preprocess.input_size[0]

    def _crop_transform(self, box: np.ndarray, points: np.ndarray) -> np.ndarray:
        """2×3 affine from image to crop pixels."""
        centre = (box[:2] + box[2:]) / 2
        extent = float(max(box[2] - box[0], box[3] - box[1])) * _ROI_SCALE
        angle = 0.0
        if not np.isnan(points).any():
            eye_vector = points[1] - points[0]
            angle = float(np.degrees(np.arctan2(eye_vector[1], eye_vector[0])))
        matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, self.side / extent)
        matrix[:, 2] += np.array([self.side / 2, self.side / 2]) - centre
        return matrix

    def mesh(self, image: np.ndarray, box: np.ndarray, points: np.ndarray) -> np.ndarray:
        """``(468, 3)`` mesh in image coordinates (z in crop-pixel units)."""
        self.load()
        matrix = self._crop_transform(box, points)
        crop = cv2.warpAffine(
            image, matrix, (self.side, self.side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        self.interpreter.set_tensor(self.input_index, to_blob(crop, self.card.preprocess))
        self.interpreter.invoke()
        mesh = self.interpreter.get_tensor(self.mesh_index).reshape(-1, 3).astype(np.float32)
        inverse = cv2.invertAffineTransform(matrix)
        mesh[:, :2] = mesh[:, :2] @ inverse[:, :2].T + inverse[:, 2]
        return mesh

    def _landmarks(
        self, image: np.ndarray, boxes: np.ndarray, landmarks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        meshes = np.stack(
            [self.mesh(image, box, points) for box, points in zip(boxes, landmarks, strict=True)]
        )
        xy = meshes[..., :2]
        five = np.stack(
            [
                xy[:, list(_RIGHT_EYE)].mean(axis=1),
                xy[:, list(_LEFT_EYE)].mean(axis=1),
                xy[:, _NOSE_TIP],
                xy[:, _MOUTH[0]],
                xy[:, _MOUTH[1]],
            ],
            axis=1,
        )
        return five, meshes
