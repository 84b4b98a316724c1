"""The multilingual IGT corpus: sources, building, splitting and statistics."""

from .build import BuildReport, build_corpus, read_corpus
from .stats import CorpusStats, corpus_stats

__all__ = ["BuildReport", "build_corpus", "read_corpus", "CorpusStats", "corpus_stats"]
