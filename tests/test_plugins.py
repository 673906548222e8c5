"""Models as plugins: discovery, one card per model beside its class, and a third-party package.

The plugin test follows docs/ADDING_A_MODEL.md to the letter: one module holding a card and a
class, an entry point in the ``facebench.models`` group, the weights in the store. It builds a
tiny ONNX detector, installs the package into a temporary venv (layered over this one, so the
plugin is visible there and nowhere else) and runs it through ``detect`` and ``benchmark``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import inspect
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from facebench.detectors import detector_class, list_detectors, list_refiners
from facebench.detectors.refiners import REFINERS
from facebench.extras import has_module
from facebench.plugins import ENTRY_POINT_GROUP, MODEL_PACKAGES
from facebench.recognizers import list_recognizers, recognizer_class
from facebench.zoo import get_card
from facebench.zoo.cards import DetectorDefaults, Preprocess
from synthetic_models import tiny_onnx_detector, tiny_onnx_recognizer

pytestmark = pytest.mark.core  # runs on the core install alone

#: names a class may not define without saying why in `card_overrides`: they are card values
CARD_FIELDS = frozenset(f.name for f in dataclasses.fields(Preprocess)) | frozenset(
    f.name for f in dataclasses.fields(DetectorDefaults)
)


def _model_classes() -> list[type]:
    return (
        [detector_class(name) for name in list_detectors()]
        + [recognizer_class(name) for name in list_recognizers()]
        + [REFINERS.get(name) for name in list_refiners()]
    )


@pytest.mark.parametrize("cls", _model_classes(), ids=lambda cls: cls.name)
def test_a_models_card_is_declared_beside_its_class_and_never_restated(cls):
    card = get_card(cls.card_name)
    module = sys.modules[cls.__module__]
    assert card in vars(module).values(), f"{cls.name}: its card is not declared in {module.__name__}"
    assert cls.__module__.rsplit(".", 1)[0] in MODEL_PACKAGES
    overrides = getattr(cls, "card_overrides", {})
    restated = sorted(
        attribute
        for klass in inspect.getmro(cls)
        if klass.__module__.startswith("facebench.") or klass is cls
        for attribute, value in vars(klass).items()
        # a property or method that reads the card is how a class uses it; a value restates it
        if attribute in CARD_FIELDS
        and not callable(value)
        and not isinstance(value, property | classmethod)
        and not overrides.get(attribute)
    )
    assert restated == [], (
        f"{cls.name} restates card values as class attributes: {restated}; read them from the card, "
        "or say why in card_overrides = {attribute: reason}"
    )


def test_every_model_module_registers_what_it_declares():
    """Discovery found every module of the model packages that declares a card."""
    from facebench.zoo.cards import WeightCard

    for package in MODEL_PACKAGES:
        for module_name, module in list(sys.modules.items()):
            if module_name.startswith(package + ".") and module is not None:
                for value in vars(module).values():
                    if isinstance(value, WeightCard):
                        assert get_card(value.name) is value, (
                            f"{module_name} declares {value.name} unregistered"
                        )


# -- a third-party plugin, installed into a temporary venv ---------------------------------------
_PLUGIN_MODULE = '''
"""A face detector for centred portraits: one box over the middle of the image, from a tiny ONNX
graph that measures the image's brightness (its score). Written as docs/ADDING_A_MODEL.md says."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from facebench.detectors import Detector, register_detector
from facebench.ops.blob import to_blob
from facebench.ops.runtime import onnx_session
from facebench.types import Faces
from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard, WeightFile

CENTRE_BOX_CARD = WeightCard(
    name="centre_box",
    task=Task.DETECTOR,
    directory="centre_box",
    files=(WeightFile("centre_box.onnx", "{sha256}", "https://example.invalid/centre_box.onnx", size={size}),),
    license="MIT",
    source="built by tests/test_plugins.py",
    preprocess=Preprocess(input_size=(32, 32), size_policy="stretch", color=ColorOrder.RGB, std=(255.0,) * 3),
    detector_defaults=DetectorDefaults(score_threshold=0.1, nms_iou=0.4, input_size="original"),
)

# ArcFace's 112x112 template as fractions of the box: eyes, nose, mouth corners
_POINTS = np.array(
    [[38.29, 51.70], [73.53, 51.50], [56.03, 71.74], [41.55, 92.37], [70.73, 92.20]], np.float32
) / 112.0


@register_detector(card=CENTRE_BOX_CARD)
class CentreBox(Detector):
    name: ClassVar[str] = "centre_box"

    def _load(self) -> None:
        self.session = onnx_session(self.store.resolve(self.card, path=self.weights), self.threads)

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        height, width = image.shape[:2]
        small = np.ascontiguousarray(image[:: max(1, height // 32), :: max(1, width // 32)][:32, :32])
        small = np.pad(small, ((0, 32 - small.shape[0]), (0, 32 - small.shape[1]), (0, 0)))
        (score,) = self.session.run(None, {{"image": to_blob(small, self.card.preprocess)}})
        side = 0.45 * min(width, height)
        x1, y1 = width / 2 - side / 2, height / 2 - side / 2
        box = np.array([[x1, y1, x1 + side, y1 + side]], np.float32)
        points = (np.array([x1, y1], np.float32) + _POINTS * side)[None]
        return Faces(box, np.array([float(score.ravel()[0])], np.float32), points, self.name)
'''


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory, shared_home):
    """A venv layered over this one, with the plugin package pip-installed into it alone."""
    root = tmp_path_factory.mktemp("plugin")
    cache = root / "cache"
    weights = tiny_onnx_detector(
        cache / "centre_box" / "centre_box.onnx"
    )  # the user cache is a store location
    package = root / "facebench-centre-box"
    (package / "facebench_centre_box.py").parent.mkdir(parents=True)
    (package / "facebench_centre_box.py").write_text(
        _PLUGIN_MODULE.format(sha256=hashlib.sha256(weights).hexdigest(), size=len(weights))
    )
    (package / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "facebench-centre-box"
            version = "0.1"
            dependencies = ["facebench"]

            [project.entry-points."{ENTRY_POINT_GROUP}"]
            centre_box = "facebench_centre_box"

            [tool.setuptools]
            py-modules = ["facebench_centre_box"]
        """)
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # this venv's packages (facebench, numpy, pip, setuptools …) are visible below the new one's
    parent = sysconfig.get_paths()["purelib"]
    (Path(site) / "_facebench_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            str(package),
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert any(Path(site).glob("facebench_centre_box*")), (
        "the plugin was not installed into the temporary venv"
    )
    environment = {
        **os.environ,
        "FACEBENCH_HOME": str(shared_home),  # the real models (the recognizer) and data
        "FACEBENCH_CACHE": str(cache),  # the plugin's weights
        "FACEBENCH_THREADS": "1",
    }
    return python, environment, root


def _facebench(plugin_venv, *arguments: str) -> subprocess.CompletedProcess[str]:
    python, environment, root = plugin_venv
    return subprocess.run(
        [str(python), "-m", "facebench.cli", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=root,
    )


def test_the_plugin_is_listed_only_where_it_is_installed(plugin_venv):
    listed = _facebench(plugin_venv, "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert "centre_box" in listed.stdout
    assert "centre_box" not in list_detectors()  # this venv never saw the package


def test_a_plugin_detector_runs_through_detect(plugin_venv, lfw_sample):
    result = _facebench(plugin_venv, "detect", str(lfw_sample[0]), "-d", "centre_box", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["config"]["detector"] == "centre_box"
    (face,) = record["faces"]
    assert 0.5 < face["score"] < 0.75  # sigmoid of a mean brightness in [0, 1]
    assert face["box"][0] == pytest.approx(250 / 2 - 0.45 * 250 / 2, abs=0.01)
    assert len(face["landmarks"]) == 5


def test_a_plugin_detector_runs_through_benchmark(plugin_venv, lfw_root):
    _, _, root = plugin_venv
    people = sorted(p for p in lfw_root.iterdir() if len(list(p.glob("*.jpg"))) >= 2)[:6]
    rows = []
    for index, person in enumerate(people):
        first, second = sorted(person.glob("*.jpg"))[:2]
        rows.append((first, second, 1, index % 2))
        rows.append((first, sorted(people[index - 1].glob("*.jpg"))[0], 0, index % 2))
    listing = root / "pairs.csv"
    with listing.open("w", newline="") as handle:
        csv.writer(handle).writerows([("path1", "path2", "label", "fold"), *rows])
    out = root / "run"
    recognizer = tiny_onnx_recognizer(root / "tiny_recognizer.onnx")  # torch-free: runs on the core install
    result = _facebench(
        plugin_venv, "benchmark", "--dataset", f"csv:{listing}", "--detectors", "centre_box",
        "--recognizers", f"onnx:{recognizer}", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = json.loads((out / "results.json").read_text())["runs"]
    assert run["detector"] == "centre_box" and run["recognizer"] == f"onnx:{recognizer}"
    assert run["pairs"] == len(rows)
    assert run["success_rate"] == 1.0  # every LFW image has its face in the centre
    assert (out / "results.csv").is_file() and (out / "README.md").is_file()
    report_extra = all(has_module(module) for module in ("matplotlib", "plotly"))
    assert (out / "report.html").is_file() == report_extra  # the core install says so instead
    if not report_extra:
        assert 'pip install "facebench[report]"' in result.stderr
    assert run["config"]["detector"]["weights_sha256"] == [get_plugin_sha(root)]


def get_plugin_sha(root: Path) -> str:
    return hashlib.sha256((root / "cache" / "centre_box" / "centre_box.onnx").read_bytes()).hexdigest()


def test_a_broken_plugin_is_a_warning_naming_it_and_the_built_ins_stay(monkeypatch):
    from importlib.metadata import EntryPoint

    import facebench.plugins as plugins

    broken = EntryPoint("broken_model", "facebench_no_such_module_here", ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [broken] if group == ENTRY_POINT_GROUP else [])
    monkeypatch.setitem(plugins._state, "done", False)
    with pytest.warns(UserWarning, match=r"plugin 'broken_model' \(facebench_no_such_module_here\) failed"):
        plugins.discover()
    assert plugins._state["done"] and "yunet" in list_detectors()
