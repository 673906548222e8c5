"""Where published weight files come from: the pinned repositories that weight cards cite.

URLs point at the exact commit a file was taken from, so a download reproduces the pinned bytes.
"""

from __future__ import annotations

from facebench.zoo.cards import PackageFiles

__all__ = ["ATEC", "DLIB_PACKAGE", "FACE_ANALYSIS_APP", "INSIGHTFACE_NC", "MEDIAPIPE", "github_raw"]


def github_raw(repo: str, commit: str, path: str) -> str:
    """The raw-file URL of ``path`` in ``repo`` at ``commit``."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


MEDIAPIPE = ("google-ai-edge/mediapipe", "63e679d99ca45b30514a9d84c9351a2d77bb9ba0")
ATEC = ("iwantgobackhome/Atec_EdgeFace", "a9ae3bc8f57bb69c8038afbcea4bf369f91e989d")
FACE_ANALYSIS_APP = ("yukkki7/FaceAnalysisApp", "d4126572f7642f97f903cfab7ab73f67e99622db")
#: dlib's models as the face_recognition_models PyPI package ships them
DLIB_PACKAGE = PackageFiles("face_recognition_models", "face_recognition_models", "models")
INSIGHTFACE_NC = "InsightFace pretrained weights: non-commercial research only (code MIT)"
