"""The project's own record store: Parquet files with one flat row per record.

Flat columns keep the files readable by any Parquet tool, and by Hugging Face
``datasets.load_dataset("parquet", ...)``, without autogloss installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import FormatError
from ..fileio import atomic_write
from ..records import IGTRecord, Language

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("transcription", pa.string()),
    ("segmentation", pa.string()),
    ("glosses", pa.string()),
    ("glosses_original", pa.string()),
    ("translation", pa.string()),
    ("pos", pa.string()),
    ("language", pa.string()),
    ("iso639_3", pa.string()),
    ("glottocode", pa.string()),
    ("metalanguage", pa.string()),
    ("is_segmented", pa.bool_()),
    ("source", pa.string()),
    ("split", pa.string()),
    ("license", pa.string()),
    ("origin", pa.string()),
    ("language_method", pa.string()),
])
_BATCH_ROWS = 4096


def record_to_row(record: IGTRecord) -> dict:
    return {
        "id": record.id,
        "transcription": record.transcription,
        "segmentation": record.segmentation,
        "glosses": record.glosses,
        "glosses_original": record.glosses_original,
        "translation": record.translation,
        "pos": record.pos,
        "language": record.language.name,
        "iso639_3": record.language.iso639_3,
        "glottocode": record.language.glottocode,
        "metalanguage": record.metalanguage,
        "is_segmented": record.is_segmented,
        "source": record.source,
        "split": record.split,
        "license": record.license,
        "origin": record.origin,
        "language_method": record.language_method,
    }


def row_to_record(row: dict) -> IGTRecord:
    language = Language(name=row["language"], iso639_3=row["iso639_3"], glottocode=row["glottocode"])
    fields = {name: row[name] for name in SCHEMA.names if name not in ("language", "iso639_3", "glottocode")}
    return IGTRecord(language=language, **fields)


def write_store(records: Iterable[IGTRecord], path: str | os.PathLike) -> int:
    """Write records to one Parquet file atomically, in batches; returns the count."""
    count = 0
    with atomic_write(path, mode="wb") as handle, pq.ParquetWriter(handle, SCHEMA, compression="zstd") as writer:
        batch: list[dict] = []
        for record in records:
            batch.append(record_to_row(record))
            if len(batch) == _BATCH_ROWS:
                writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
                count += len(batch)
                batch = []
        if batch or count == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            count += len(batch)
    return count


def _readable_as(column: pa.DataType, expected: pa.DataType) -> bool:
    if pa.types.is_null(column):  # a column of nulls only
        return True
    if pa.types.is_string(expected):
        return pa.types.is_string(column) or pa.types.is_large_string(column)
    return column == expected


def read_store(path: str | os.PathLike) -> Iterator[IGTRecord]:
    """Stream the records of a Parquet file written by :func:`write_store`."""
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise FormatError(path, None, f"not a readable Parquet file ({error})") from None
    schema = parquet.schema_arrow
    missing = [name for name in SCHEMA.names if name not in schema.names]
    if missing:
        raise FormatError(path, None, f"not an autogloss record store: missing column(s) {', '.join(missing)}")
    wrong = [f"{name} ({', '.join(str(schema.field(i).type) for i in schema.get_all_field_indices(name))})"
             for name in SCHEMA.names if len(schema.get_all_field_indices(name)) != 1
             or not _readable_as(schema.field(name).type, SCHEMA.field(name).type)]
    if wrong:
        raise FormatError(path, None, f"not an autogloss record store: column(s) of another type or repeated: "
                                      f"{', '.join(wrong)}")
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=SCHEMA.names):
            for row in batch.to_pylist():
                number += 1
                if not (row["transcription"] or "").strip():
                    raise FormatError(path, None, f"row {number}: record has no transcription")
                yield row_to_record({**row, "id": str(number) if row["id"] is None else row["id"],
                                     "glosses": row["glosses"] or ""})
    except (OSError, pa.ArrowException, UnicodeDecodeError) as error:  # damage shows only when a chunk is read
        after = f" after row {number}" if number else ""
        raise FormatError(path, None, f"damaged Parquet file{after} ({error})") from None
