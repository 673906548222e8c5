"""Training: recognition backbones with margin heads and Partial FC, and RetinaFace detectors.

Entry points: `train_recognition` / `train_detector` (``facebench train recognition|detector``),
each driven by a YAML config (`RecognitionConfig`, `DetectionConfig`); both run single-process or
under ``torchrun``. Trained models are used as ``ckpt:<path>`` wherever a model name goes.
"""

from facebench.train.config import load_config as load_config
from facebench.train.detection import DetectionConfig as DetectionConfig
from facebench.train.detection import train_detector as train_detector
from facebench.train.heads import AdaFace as AdaFace
from facebench.train.heads import CombinedMargin as CombinedMargin
from facebench.train.heads import PartialFC as PartialFC
from facebench.train.heads import build_margin as build_margin
from facebench.train.recognition import RecognitionConfig as RecognitionConfig
from facebench.train.recognition import train_recognition as train_recognition

__all__ = [
    "AdaFace",
    "CombinedMargin",
    "DetectionConfig",
    "PartialFC",
    "RecognitionConfig",
    "build_margin",
    "load_config",
    "train_detector",
    "train_recognition",
]
