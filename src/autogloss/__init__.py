"""autogloss: automatic interlinear glossing for language documentation."""

from .errors import AutoglossError, FormatError
from .formats import read_records, write_records
from .records import AlignmentProblem, IGTRecord, Language, check_alignment

__version__ = "0.1.0"

__all__ = [
    "AutoglossError", "FormatError", "IGTRecord", "Language", "AlignmentProblem",
    "check_alignment", "read_records", "write_records", "__version__",
]
