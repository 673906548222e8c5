import numpy as np
import pytest

from facebench.types import LANDMARK_NAMES, Face, Faces

pytestmark = pytest.mark.core  # runs on the core install alone


def _face(score: float = 0.9, landmarks: bool = True) -> Face:
    marks = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], np.float32) if landmarks else None
    return Face(box=[10, 20, 90, 110], score=score, landmarks=marks, detector="test")


def test_landmark_order_is_the_arcface_order():
    assert LANDMARK_NAMES == ("right_eye", "left_eye", "nose_tip", "right_mouth_corner", "left_mouth_corner")


def test_face_validates_shapes_and_is_frozen():
    face = _face()
    assert face.box.dtype == np.float32 and face.landmarks.shape == (5, 2)
    assert (face.width, face.height) == (80.0, 90.0)
    with pytest.raises(ValueError, match=r"`box` must have shape \(4,\), got \(3,\)"):
        Face(box=[1, 2, 3], score=1.0)
    with pytest.raises(ValueError, match=r"`landmarks` must have shape \(5, 2\), got \(4, 2\)"):
        Face(box=[1, 2, 3, 4], score=1.0, landmarks=np.zeros((4, 2)))
    with pytest.raises(AttributeError):
        face.score = 0.1  # type: ignore[misc]
    with pytest.raises(ValueError):
        face.box[0] = 5.0  # arrays are read-only too


def test_face_to_dict_and_repr():
    data = _face().to_dict()
    assert list(data["landmarks"]) == list(LANDMARK_NAMES)
    assert data["box"] == [10.0, 20.0, 90.0, 110.0]
    assert "5 landmarks" in repr(_face()) and "no landmarks" in repr(_face(landmarks=False))


def test_faces_batch_filtering_merge_and_roundtrip():
    faces = Faces.from_faces([_face(0.5), _face(0.9, landmarks=False), _face(0.7)])
    assert len(faces) == 3 and faces.landmarks.shape == (3, 5, 2)
    assert np.isnan(faces.landmarks[1]).all()
    high = faces[faces.scores > 0.6]
    assert len(high) == 2
    ordered = faces.sorted_by_score()
    assert ordered.scores.tolist() == pytest.approx([0.9, 0.7, 0.5])
    back = ordered.to_faces()
    assert back[0].landmarks is None and back[1].landmarks is not None
    merged = Faces.merge([faces, Faces.empty()])
    assert len(merged) == 3
    assert Faces.empty().is_empty and len(faces[0]) == 1


def test_faces_shape_errors_name_expected_and_actual():
    with pytest.raises(ValueError, match=r"`scores` must have shape \(2,\)"):
        Faces(np.zeros((2, 4)), np.zeros(3), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match=r"`boxes` must have shape \(N, 4\)"):
        Faces(np.zeros((2, 3)), np.zeros(2), np.zeros((2, 5, 2)))
