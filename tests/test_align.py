import cv2
import numpy as np
import pytest

from facebench.align import TEMPLATES, align_face, get_template, similarity_transform, warp_matrix
from facebench.errors import UnknownNameError

pytestmark = pytest.mark.core  # runs on the core install alone


def _similar(points: np.ndarray, scale: float, degrees: float, shift: tuple[float, float]) -> np.ndarray:
    angle = np.radians(degrees)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return (scale * points @ rotation.T + np.asarray(shift)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize(
    ("scale", "degrees", "shift"), [(2.3, 17.0, (150.0, 90.0)), (0.7, -35.0, (20.0, 40.0))]
)
def test_similarity_alignment_maps_landmarks_onto_the_template(name, scale, degrees, shift):
    template = get_template(name)
    landmarks = _similar(template.array, scale, degrees, shift)
    matrix = warp_matrix(np.array([0, 0, 1, 1], np.float32), landmarks, template)
    mapped = landmarks @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(mapped - template.array).max() < 1e-3

    # and on pixels: a dot at each landmark of a synthetic face lands on the template point
    for (x, y), (tx, ty) in zip(landmarks, template.array, strict=True):
        image = np.zeros((400, 400, 3), np.uint8)
        cv2.circle(image, (round(float(x)), round(float(y))), 4, (255, 255, 255), -1, lineType=cv2.LINE_AA)
        crop = align_face(image, np.array([0, 0, 1, 1]), landmarks, template).astype(np.float64)[..., 0]
        assert crop.shape == (template.height, template.width)
        ys, xs = np.mgrid[: crop.shape[0], : crop.shape[1]]
        weight = crop.sum()
        assert weight > 0
        # the dot was drawn at the rounded landmark: allow that half pixel, scaled, plus 1 px
        tolerance = 1.0 + 0.71 / scale
        assert (
            abs((xs * crop).sum() / weight - tx) <= tolerance
            and abs((ys * crop).sum() / weight - ty) <= tolerance
        )


@pytest.mark.parametrize("seed", range(5))
def test_similarity_transform_is_exact_for_two_points_and_refuses_reflections(seed):
    rng = np.random.default_rng(seed)
    source = rng.uniform(0, 200, (2, 2))
    angle, scale, shift = rng.uniform(-np.pi, np.pi), rng.uniform(0.2, 5), rng.uniform(-50, 50, 2)
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = source @ rotation.T + shift
    matrix = similarity_transform(source, target)
    # two correspondences fix a similarity's four degrees of freedom: the fit is exact, up to the
    # float32 rounding of the returned matrix (what cv2.warpAffine takes)
    assert matrix.dtype == np.float32
    np.testing.assert_allclose(source @ matrix[:, :2].T + matrix[:, 2], target, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(matrix[:, :2], rotation, rtol=1e-6, atol=1e-6)

    triangle = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    mirrored = triangle * np.array([-1.0, 1.0])
    fitted = similarity_transform(triangle, mirrored)
    assert np.linalg.det(fitted[:, :2]) > 0  # the best proper similarity, never the reflection


def test_baselines_and_errors():
    image = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    box = np.array([50, 40, 150, 170], np.float32)
    landmarks = np.array([[80, 90], [120, 95], [100, 115], [85, 140], [118, 142]], np.float32)
    for method in ("none", "eyes"):
        assert align_face(image, box, landmarks, "arcface_112", method).shape == (112, 112, 3)
    assert align_face(image, box, None, "sphereface_112x96", "none").shape == (112, 96, 3)
    with pytest.raises(ValueError, match="needs the 5 landmarks"):
        align_face(image, box, None, "arcface_112", "similarity")
    with pytest.raises(UnknownNameError, match="arcface_112"):
        get_template("arcface")
