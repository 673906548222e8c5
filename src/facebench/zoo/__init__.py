"""The model store: weight cards for every model, checksum-pinned resolution and safe loading."""

from facebench.zoo import catalog as _catalog  # noqa: F401  (registers every card)
from facebench.zoo.cards import ColorOrder as ColorOrder
from facebench.zoo.cards import DetectorDefaults as DetectorDefaults
from facebench.zoo.cards import PackageFiles as PackageFiles
from facebench.zoo.cards import Preprocess as Preprocess
from facebench.zoo.cards import Task as Task
from facebench.zoo.cards import WeightCard as WeightCard
from facebench.zoo.cards import WeightFile as WeightFile
from facebench.zoo.registry import get_card as get_card
from facebench.zoo.registry import list_cards as list_cards
from facebench.zoo.registry import register_card as register_card
from facebench.zoo.safe_load import load_npy_verified as load_npy_verified
from facebench.zoo.safe_load import load_torch_weights as load_torch_weights
from facebench.zoo.store import FileState as FileState
from facebench.zoo.store import FileStatus as FileStatus
from facebench.zoo.store import ModelStore as ModelStore
from facebench.zoo.store import default_store as default_store
from facebench.zoo.store import resolve as resolve

__all__ = [
    "ColorOrder",
    "DetectorDefaults",
    "FileState",
    "FileStatus",
    "ModelStore",
    "PackageFiles",
    "Preprocess",
    "Task",
    "WeightCard",
    "WeightFile",
    "default_store",
    "get_card",
    "list_cards",
    "load_npy_verified",
    "load_torch_weights",
    "register_card",
    "resolve",
]
