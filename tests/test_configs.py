"""Every shipped training config parses into its dataclass (keys checked, values typed)."""

from pathlib import Path

import pytest

from facebench.train.config import load_config
from facebench.train.detection import DetectionConfig
from facebench.train.recognition import RecognitionConfig

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_config_parses(path):
    kind = DetectionConfig if "widerface" in path.name else RecognitionConfig
    config = load_config(kind, path)
    assert config.optim.steps > 0 and config.output.startswith("runs/train/")
