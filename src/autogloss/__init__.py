"""autogloss: automatic interlinear glossing for language documentation.

The package face holds only the record and its errors; everything else is
imported from its own layer (see docs/architecture.md): formats from
:mod:`autogloss.formats`, models from :mod:`autogloss.models`, glossing from
:mod:`autogloss.glossing`, scores from :mod:`autogloss.metrics`.
"""

from .errors import AutoglossError, FormatError
from .records import AlignmentProblem, IGTRecord, Language, check_alignment

__version__ = "0.1.0"

__all__ = [
    "AutoglossError", "FormatError", "IGTRecord", "Language", "AlignmentProblem", "check_alignment", "__version__",
]
