"""Interlinear documents: the document model (sentences, words, gloss slots
and their states) and one module per format (FLEx, Toolbox, ELAN, CLDF).

Reading and writing by format name or path goes through the format
registry (:mod:`autogloss.formats`); filling empty glosses is the glossing
pipeline's (:mod:`autogloss.glossing`).
"""

from .document import (GlossSlot, GlossState, InterlinearDocument, ProtectedGlossError, RecordDocument, Sentence,
                       TrainingSelection, Word, count_states, leipzig_gloss, select_training_records,
                       sentence_from_record, training_records)

__all__ = [
    "GlossSlot", "GlossState", "InterlinearDocument", "ProtectedGlossError", "RecordDocument", "Sentence",
    "TrainingSelection", "Word", "count_states", "leipzig_gloss", "select_training_records",
    "sentence_from_record", "training_records",
]
