"""Reading and writing IGT: flat record formats, one module each, and the
registry (:mod:`.registry`) that names every format, documents included.

:func:`read_records`, :func:`write_records`, :func:`read_document` and
:func:`write_document` pick the format from a name or the path, so commands
accept any supported file.
"""

from .jsonl import read_jsonl, write_jsonl
from .plaintext import read_plain_text
from .registry import (DOCUMENT_FORMATS, FORMATS, Download, Format, FormatName, convert_file, detect_format,
                       document_class,
                       document_format_of, downloads, format_of, layout_options, output_format_for, read_document,
                       read_records, read_training_records, recognised_format, upload_suffixes, write_document,
                       write_records)
from .sigmorphon import read_sigmorphon, write_sigmorphon

__all__ = [
    "DOCUMENT_FORMATS", "FORMATS", "Download", "Format", "FormatName", "convert_file", "detect_format",
    "document_class",
    "document_format_of", "downloads", "format_of", "layout_options", "output_format_for", "read_document",
    "read_records", "read_training_records", "recognised_format", "upload_suffixes", "write_document", "write_records",
    "read_sigmorphon", "write_sigmorphon", "read_jsonl", "write_jsonl",
    "read_plain_text",
]
