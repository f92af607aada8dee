"""Parquet output for bulk jobs (``pip install brisk[parquet]``): ``brisk.bulk(urls, "results.parquet")``.

A Parquet file cannot be appended to, and one cut short by a killed process has no footer and cannot be
read. So the output is a *directory* of part files, a dataset that pyarrow, pandas, Polars and DuckDB read
as one table (``pd.read_parquet("results.parquet")``): results are kept in memory until ``rows`` of them
(10,000) are there, then written to ``part-<n>.parquet`` through a ``.part`` name renamed once complete.
A run that stops normally, with an exception or with Ctrl-C, writes what it holds; a process killed
outright loses at most the results not yet written, which the next run fetches again.

The columns are those of a JSON-lines record (``brisk._bulk.job``), flattened: ``headers`` as a JSON
string, ``error`` as ``error_type`` and ``error_message``.
"""

from __future__ import annotations

import json
import os

from brisk._bulk.job import DoneItems

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ParquetParts"]

_COLUMNS = (
    ("index", "int64"), ("method", "string"), ("url", "string"), ("status", "int32"), ("final_url", "string"),
    ("headers", "string"), ("elapsed", "float64"), ("size", "int64"), ("path", "string"),
    ("error_type", "string"), ("error_message", "string"), ("key", "string"),
)  # fmt: skip


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([(name, getattr(pa, kind)()) for name, kind in _COLUMNS])


class ParquetParts:
    """Writes records to ``directory/part-<n>.parquet``, ``rows`` at a time."""

    def __init__(self, directory: str, resume: bool, rows: int = 10_000) -> None:
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError as exc:
            raise ImportError("Parquet output needs pyarrow: pip install 'brisk[parquet]'") from exc
        self.directory = directory
        self.rows = rows
        self._held: list[dict[str, Any]] = []
        if os.path.isfile(directory):
            raise ValueError(f"{directory} is a file: Parquet output is a directory of part files")
        os.makedirs(directory, exist_ok=True)
        if not resume:
            for name in self._parts():
                os.unlink(os.path.join(directory, name))
        self._next = 1 + max((int(name[5:-8]) for name in self._parts()), default=-1)

    def _parts(self) -> list[str]:
        return sorted(
            name
            for name in os.listdir(self.directory)
            if name.startswith("part-") and name.endswith(".parquet")
        )

    def done(self, offset: int = 0) -> DoneItems:
        """The items the part files record as answered (error empty), from index ``offset`` on."""
        import pyarrow.parquet as pq

        done = DoneItems(offset)
        for name in self._parts():
            table = pq.read_table(os.path.join(self.directory, name), columns=["index", "url", "error_type"])
            for index, url, error in zip(*(table.column(i).to_pylist() for i in range(3)), strict=True):
                if error is None:
                    done.add(index, url)
        return done

    def write(self, records: list[dict[str, Any]]) -> None:
        for entry in records:
            error = entry.get("error")
            headers = entry.get("headers")
            self._held.append({
                **entry,
                "headers": None if headers is None else json.dumps(headers, ensure_ascii=False),
                "error_type": error and error["type"], "error_message": error and error["message"],
                "key": None if entry.get("key") is None else str(entry["key"]),
            })  # fmt: skip
        if len(self._held) >= self.rows:
            self.flush()

    def flush(self) -> None:
        if not self._held:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = _schema()
        table = pa.Table.from_pylist(
            [{name: row.get(name) for name in schema.names} for row in self._held], schema=schema
        )
        path = os.path.join(self.directory, f"part-{self._next:06d}.parquet")
        pq.write_table(table, path + ".part")
        os.replace(path + ".part", path)
        self._next += 1
        self._held = []
