"""Every user mistake on every command gets one clear line naming the problem and a non-zero exit,
never a traceback (the benchmark's own checks are in test_robustness.py)."""

import pytest
from typer.testing import CliRunner

from facebench.cli import app

MISSING = "/nonexistent/photo.jpg"


@pytest.fixture(scope="module")
def files(tmp_path_factory, lfw_root):
    root = tmp_path_factory.mktemp("mistakes")
    (root / "bad.jpg").write_text("not an image")
    (root / "a_file").write_text("x")
    (root / "empty").mkdir()
    return {
        "BAD": str(root / "bad.jpg"),
        "FILE": str(root / "a_file"),
        "EMPTY": str(root / "empty"),
        "ROOT": str(root),
        "FACE": str(sorted((lfw_root / "George_W_Bush").glob("*.jpg"))[0]),
    }


CASES = [
    (["detect", "{FACE}", "-d", "nope"], "got 'nope'"),
    (["detect", "{FACE}", "--input-size", "huge"], "got 'huge'"),
    (["detect", "{FACE}", "--refine", "nope"], "got 'nope'"),
    (["detect", "{FACE}", "--score-threshold", "2"], "must lie in [0, 1]"),
    (["detect", "{FACE}", "--max-faces", "0"], "must be at least 1"),
    (["detect", "{FACE}", "--save", "{FILE}/x.png"], "not writable"),
    (["detect", "{EMPTY}", "--out", "{FILE}/o"], "not writable"),
    (["detect", MISSING], "could not be read"),
    (["detect", "{BAD}"], "could not be read"),
    (["eval-lfw", "-r", "nope"], "got 'nope'"),
    (["eval-lfw", "--data-root", "{EMPTY}"], "pairs.txt not found"),
    (["eval-lfw", "--align", "crooked"], "got 'crooked'"),
    (["eval-lfw", "--engine", "tpu"], "got 'tpu'"),
    (["eval-identification", "--data-root", "/nonexistent"], "does not exist"),
    (["eval-detection", "-d", "yunet", "--dataset", "nope"], "got 'nope'"),
    (["embed", "{FACE}", "-r", "nope", "--out", "{ROOT}/e.npy"], "got 'nope'"),
    (["embed", "{FACE}", "--out", "{FILE}/e.npy"], "not writable"),
    (["embed", MISSING, "--out", "{ROOT}/e.npy"], "1 unreadable or failed"),
    (["verify", "{FACE}", MISSING], "no such file"),
    (["verify", "{FACE}", "{BAD}"], "not a recognised image format"),
    (["verify", "{FACE}", "{FACE}", "--align", "crooked"], "'crooked' is not offered"),
    (["verify", "{FACE}", "{FACE}", "--threshold", "0.3", "--far", "1e-3"], "not both"),
    (["verify", "{FACE}", "{FACE}", "--far", "0.5"], "no threshold calibrated for FAR 0.5"),
    (["verify", "{FACE}", "{EMPTY}"], "no images in this folder"),
    (["index", "build", "/nonexistent"], "not a folder of identity sub-folders"),
    (["index", "build", "{EMPTY}", "--index", "bad"], "got 'bad'"),
    (["index", "search", "{EMPTY}", "{FACE}"], "not a gallery"),
    (["report", "{EMPTY}"], "no results.json"),
    (["export", "nope", "--out", "{ROOT}/x.onnx"], "got 'nope'"),
    (["export", "mobilefacenet_casia", "--out", "{FILE}/x.onnx"], "not writable"),
    (["export", "edgeface_xs_q", "--out", "{ROOT}/x.onnx"], "cannot be exported"),
    (["models", "path", "nope"], "no model named 'nope'"),
    (["train", "recognition", "-c", "/nonexistent.yaml"], "/nonexistent.yaml"),
    (["train", "recognition", "-c", "{BAD}"], "{BAD}"),
    (["benchmark", "--dataset", "csv:/nonexistent.csv"], "not found"),
    (["benchmark", "--dataset", "bin:{BAD}"], "not an InsightFace .bin"),
]


@pytest.mark.parametrize(("arguments", "message"), CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_a_mistake_gets_one_clear_line_and_no_traceback(arguments, message, files, tmp_path):
    def fill(text: str) -> str:
        return text.format(**files)

    arguments = [fill(a) for a in arguments]
    if arguments[0] == "benchmark":
        arguments += ["--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert fill(message) in result.output, result.output


def test_an_interrupted_embed_names_its_cache():
    from facebench.cli import _interrupted_message

    said = _interrupted_message(["embed", "photos", "--out", "runs/e.npy"])
    assert "(runs/e.cache)" in said and "`facebench embed photos --out runs/e.npy` again" in said
    assert "(mine)" in _interrupted_message(["embed", "photos", "--cache", "mine"])
    assert "(embeddings.cache)" in _interrupted_message(["embed", "photos"])
