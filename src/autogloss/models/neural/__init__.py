"""The neural glosser: a character BiLSTM with a morpheme classifier (segmented
input) and a per-word label decoder (unsegmented input), both able to copy
from the translation."""

from .ensemble import EnsembleGlosser
from .glosser import NeuralGlosser, build_vocabularies
from .training import TrainingSettings, fit, train_glosser, tune_memory

__all__ = ["EnsembleGlosser", "NeuralGlosser", "TrainingSettings", "build_vocabularies", "fit", "train_glosser", "tune_memory"]
