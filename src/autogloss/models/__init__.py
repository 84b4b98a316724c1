"""Glossing models, one module per model family, behind one :class:`Glosser` interface."""

from ..records import UNKNOWN_GLOSS, GlossedRecord
from .base import Glosser, load_backend
from .majority import MajorityGlosser

load_glosser = Glosser.from_pretrained

__all__ = ["Glosser", "GlossedRecord", "MajorityGlosser", "UNKNOWN_GLOSS", "load_backend", "load_glosser"]
