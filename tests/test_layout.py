"""The layout shows the architecture: no stage subpackage imports a later one (lazy imports too)."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.core  # runs on the core install alone

#: the stage subpackages of src/facebench, in pipeline order (README, Layout)
STAGES = (
    "zoo", "detectors", "segment", "align", "restore", "recognizers", "datasets", "metrics", "bench",
    "gallery", "report", "annotate", "train",
)  # fmt: skip
PACKAGE = Path(__file__).resolve().parents[1] / "src" / "facebench"


def _imported_stages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "facebench" and len(parts) > 1 and parts[1] in STAGES:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_a_later_one(stage):
    later = set(STAGES[STAGES.index(stage) + 1 :])
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_imported_stages(path) & later)
        for path in sorted((PACKAGE / stage).rglob("*.py"))
    }
    assert not {path: stages for path, stages in offenders.items() if stages}
