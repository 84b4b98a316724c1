"""Glossing models, one subpackage per model family, behind one :class:`Glosser`
interface; :func:`load_model` loads any of them."""

from .base import Glosser
from .loading import load_model
from .majority import MajorityGlosser

__all__ = ["Glosser", "MajorityGlosser", "load_model"]
