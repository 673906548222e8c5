"""Cards of the files in the store that no model class runs yet.

A model that facebench runs declares its weight card beside its class, in its own module
(`facebench.detectors.yunet.YUNET_CARD`, …): that card is the only home of its files, preprocessing
contract and defaults. This module holds the rest: dlib's 68-point predictor, and canonical models that are not available offline here (listed with their published hashes, ``tested_offline=False``), so ``facebench models`` can list,
verify and locate their files.
"""

from __future__ import annotations

from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.registry import register_card
from facebench.zoo.sources import DLIB_PACKAGE, INSIGHTFACE_NC

__all__: list[str] = []

# ---------------------------------------------------------------------------------------------
# Landmarks
# ---------------------------------------------------------------------------------------------
register_card(
    WeightCard(
        name="dlib68",
        task=Task.LANDMARKS,
        directory="dlib_shape_predictor_68",
        files=(
            WeightFile(
                "shape_predictor_68_face_landmarks.dat",
                "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
                "http://dlib.net/files/shape_predictor_68_face_landmarks.dat.bz2",
                size=99693937,
                archive="shape_predictor_68_face_landmarks.dat.bz2",
            ),
        ),
        license="iBUG 300-W terms: research use only (model by Davis King)",
        source="PyPI face_recognition_models 0.3.0 (dlib-models shape_predictor_68_face_landmarks)",
        preprocess=Preprocess(color=ColorOrder.RGB),
        package=DLIB_PACKAGE,
        notes="68 iBUG points; trained on 300-W (non-commercial).",
    )
)

# ---------------------------------------------------------------------------------------------
# Canonical models not available offline here: listed with their published hashes, untested.
# ---------------------------------------------------------------------------------------------
register_card(
    WeightCard(
        name="sface",
        task=Task.RECOGNIZER,
        directory="sface",
        files=(
            WeightFile(
                "face_recognition_sface_2021dec.onnx",
                "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
                "https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/face_recognition_sface_2021dec.onnx",
                size=38696353,
            ),
        ),
        license="Apache-2.0 (opencv_zoo)",
        source="opencv_zoo models/face_recognition_sface",
        paper="Zhong et al., SFace: Sigmoid-Constrained Hypersphere Loss, TIP 2021",
        preprocess=Preprocess(
            input_size=(112, 112),
            size_policy="crop",
            color=ColorOrder.RGB,
            template="arcface_112",
            embedding_dim=128,
        ),
        tested_offline=False,
    )
)

for _name, _member, _digest, _size, _pack in (
    (
        "insightface_w600k_mbf",
        "w600k_mbf.onnx",
        "9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f",
        13616099,
        "buffalo_s",
    ),
    (
        "insightface_w600k_r50",
        "w600k_r50.onnx",
        "4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43",
        174383860,
        "buffalo_l",
    ),
):
    register_card(
        WeightCard(
            name=_name,
            task=Task.RECOGNIZER,
            directory=f"insightface_{_pack}",
            files=(
                WeightFile(
                    _member,
                    _digest,
                    f"https://github.com/deepinsight/insightface/releases/download/v0.7/{_pack}.zip",
                    size=_size,
                    archive=f"{_pack}.zip",
                    archive_member=_member,
                ),
            ),
            license=INSIGHTFACE_NC,
            source=f"InsightFace model pack {_pack}.zip",
            paper="Deng et al., ArcFace: Additive Angular Margin Loss for Deep Face Recognition, CVPR 2019",
            preprocess=Preprocess(
                input_size=(112, 112),
                size_policy="crop",
                color=ColorOrder.RGB,
                mean=(127.5,) * 3,
                std=(127.5,) * 3,
                template="arcface_112",
                embedding_dim=512,
            ),
            tested_offline=False,
        )
    )

register_card(
    WeightCard(
        name="scrfd_10g",
        task=Task.DETECTOR,
        directory="insightface_buffalo_l",
        files=(
            WeightFile(
                "det_10g.onnx",
                "5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91",
                "https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip",
                archive="buffalo_l.zip",
                archive_member="det_10g.onnx",
            ),
        ),
        license=INSIGHTFACE_NC,
        source="InsightFace model pack buffalo_l.zip",
        paper="Guo et al., Sample and Computation Redistribution for Efficient Face Detection, ICLR 2022",
        preprocess=Preprocess(
            input_size=(640, 640),
            size_policy="letterbox",
            color=ColorOrder.RGB,
            mean=(127.5,) * 3,
            std=(128.0,) * 3,
        ),
        tested_offline=False,
        detector_defaults=DetectorDefaults(
            score_threshold=0.5,
            nms_iou=0.4,
            input_size="fixed=640x640",
            why="InsightFace's FaceAnalysis defaults.",
        ),
    )
)
