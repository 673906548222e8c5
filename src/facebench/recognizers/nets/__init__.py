"""Recognition networks in plain PyTorch (imported lazily: importing facebench does not import torch)."""
