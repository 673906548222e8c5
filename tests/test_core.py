"""The core install: light to import, detects with every ONNX detector, embeds with ONNX files,
and names the extra to install for anything else. `.ci/run` runs these in a venv holding only
``pip install .``; here, in the full venv, torch is hidden from the subprocesses that need it gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facebench.cli import app
from facebench.detectors import detector_class, list_detectors
from facebench.extras import EXTRA_OF
from synthetic_models import tiny_onnx_recognizer

pytestmark = pytest.mark.core

#: every module an extra provides, hidden from a subprocess as if it were not installed
_HIDE_EXTRAS = f"""
import importlib.abc, sys
HIDDEN = {sorted(EXTRA_OF)!r}
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Hide())
"""
ONNX_DETECTORS = [name for name in list_detectors() if not detector_class(name).requires]


def _python(code: str, *, hide_extras: bool = False) -> subprocess.CompletedProcess[str]:
    prelude = _HIDE_EXTRAS if hide_extras else ""
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, env=os.environ
    )


def test_import_facebench_loads_no_optional_dependency():
    code = (
        "import sys, facebench\n"
        "facebench.list_detectors(); facebench.list_recognizers()\n"
        "from facebench.cli import app\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(EXTRA_OF)!r}))"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"importing facebench pulled in: {result.stdout}"


def test_onnx_detectors_need_no_extra():
    assert {"yunet", "scrfd_500m", "scrfd_2.5g", "yolov5n_face", "yolov8lite_t_face"} <= set(ONNX_DETECTORS)


@pytest.mark.parametrize("name", ONNX_DETECTORS)
def test_every_onnx_detector_finds_the_crowd_without_extras(name, demo_crowd):
    code = (
        "import facebench\n"
        f"faces = facebench.detect({str(demo_crowd)!r}, detector={name!r})\n"
        "print(len(faces))"
    )
    result = _python(code, hide_extras=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) >= 5


@pytest.mark.parametrize(
    ("detector", "extra"),
    [("retinaface_mnet025", "torch"), ("blazeface_short", "litert"), ("dlib_hog", "dlib")],
)
def test_a_model_that_needs_an_extra_says_which_in_one_line(detector, extra, demo_crowd):
    code = f"import sys; sys.argv = ['facebench', 'detect', {str(demo_crowd)!r}, '-d', {detector!r}]\n"
    code += "from facebench.cli import main; main()"
    result = _python(code, hide_extras=True)
    assert result.returncode == 1
    assert f'pip install "facebench[{extra}]"' in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_models_list_and_an_onnx_file_recognizer_run_without_extras(tmp_path, lfw_sample):
    model = tiny_onnx_recognizer(tmp_path / "tiny.onnx")
    code = (
        "import facebench, numpy as np\n"
        f"vectors = facebench.embed({str(lfw_sample[0])!r}, detector='yunet', recognizer='onnx:{model}')\n"
        "print(vectors.shape, float(np.linalg.norm(vectors[0])))"
    )
    result = _python(code, hide_extras=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split(")")[0] == "(1, 64" and abs(float(result.stdout.split()[-1]) - 1) < 1e-5
    listed = CliRunner().invoke(app, ["models", "list", "--json"])
    assert listed.exit_code == 0
    names = {row["name"] for row in json.loads(listed.stdout)}
    assert {"yunet", "retinaface_mnet025", "edgeface_xs_q"} <= names


def test_an_onnx_file_recognizer_refuses_a_graph_without_its_contract(tmp_path):
    from facebench.errors import FacebenchError
    from facebench.recognizers import create

    model = tiny_onnx_recognizer(tmp_path / "tiny.onnx")
    Path(str(model) + ".json").unlink()
    with pytest.raises(FacebenchError, match="no contract file"):
        create(f"onnx:{model}")


def test_every_public_name_of_the_lazy_package_resolves():
    import facebench

    for name in facebench.__all__:
        assert getattr(facebench, name) is not None, name
