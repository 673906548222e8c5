"""Galleries: enrolled faces in a FAISS index for 1:N search (``pip install "facebench[gallery]"``)."""

from facebench.gallery.gallery import Gallery, Match, SearchResult, enrolment_images
from facebench.gallery.index import INDEX_KINDS, FaissIndex, choose_kind

__all__ = ["INDEX_KINDS", "FaissIndex", "Gallery", "Match", "SearchResult", "choose_kind", "enrolment_images"]
