"""The README's Python examples run as written, in order, on real photos (a folder laid out with
the file names they use), so an example that drifts from the API fails here."""

import re
import shutil
from pathlib import Path

import numpy as np

import facebench

README = Path(__file__).resolve().parents[1] / "README.md"


def python_examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_readme_has_python_examples_for_every_public_entry_point():
    code = "\n".join(python_examples())
    for call in ("benchmark(", "load_results(", "detect(", "embed(", "analyze(", "verify(", "Gallery.build("):
        assert call in code, f"the README shows no {call} example"


def test_readme_python_examples_run(tmp_path, shared_home, lfw_root, demo_crowd, monkeypatch):
    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))
    shutil.copy(demo_crowd, tmp_path / "group.jpg")
    shutil.copy(bush[0], tmp_path / "a.jpg")
    shutil.copy(bush[1], tmp_path / "b.jpg")
    (tmp_path / "photos").mkdir()
    for image in bush[2:4]:
        shutil.copy(image, tmp_path / "photos" / image.name)
    for person in ("George_W_Bush", "Colin_Powell", "Tony_Blair"):
        folder = tmp_path / "people" / person
        folder.mkdir(parents=True)
        for image in sorted((lfw_root / person).glob("*.jpg"))[1:4]:
            shutil.copy(image, folder / image.name)
    shutil.copy(sorted((lfw_root / "Colin_Powell").glob("*.jpg"))[0], tmp_path / "probe.jpg")
    # the examples run from a folder of their own; $FACEBENCH_HOME (LFW for the benchmark) as an
    # absolute path, since a relative one would now point elsewhere
    monkeypatch.setenv("FACEBENCH_HOME", str(Path(shared_home).resolve()))
    monkeypatch.chdir(tmp_path)

    namespace: dict[str, object] = {}
    for number, example in enumerate(python_examples(), 1):
        try:
            exec(compile(example, f"README.md python example {number}", "exec"), namespace)
        except Exception as error:  # name the example that broke
            raise AssertionError(f"README python example {number} failed: {error!r}\n{example}") from error

    # what the examples promise, checked on what they produced
    assert namespace["best"].pairs == 600 and len(namespace["frame"]) == 1
    faces = namespace["faces"]  # the last example's: analyze's faces, each with its embedding
    assert len(faces) > 1 and all(isinstance(face.face, facebench.Face) for face in faces)
    assert len(namespace["per_image"]) == 2 and namespace["vectors"].shape == (len(faces), 512)
    result, strict = namespace["result"], namespace["strict"]
    assert isinstance(result, facebench.VerifyResult) and bool(result) and result.calibrated_for_this_pipeline
    assert strict.threshold_source.startswith("FAR 0.001") and np.isclose(strict.score, result.score)
    assert len(namespace["one_to_many"]) == 2 and all(namespace["one_to_many"])
    assert namespace["found"].matches[0].identity == "Colin_Powell"
