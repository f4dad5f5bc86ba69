"""Opening a Pulse lake and reading its Delta tables as pyarrow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

from . import _arrow, _core


class Lake:
    """A folder or S3 prefix of Delta tables, opened as `pulse` opens it (see open_lake)."""

    def __init__(self, handle: _core.Lake) -> None:
        self._handle = handle

    @property
    def url(self) -> str:
        return self._handle.url

    def tables(self) -> list[str]:
        """The table names (folders holding a _delta_log), sorted."""
        return self._handle.tables()

    def version(self, table: str) -> int:
        """The table's newest version."""
        return self._handle.version(table)

    def reader(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        version: int | None = None,
        partitions: Mapping[str, Sequence[str]] | None = None,
    ) -> pa.RecordBatchReader:
        """A snapshot of `table` (newest, or `version`) as a stream of record batches: only
        `columns` when given, only files whose partition values are listed in `partitions`."""
        parts = {k: list(v) for k, v in (partitions or {}).items()}
        cols = list(columns) if columns is not None else None
        return _arrow.reader(self._handle._read_stream(table, cols, version, parts))

    def read(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        version: int | None = None,
        partitions: Mapping[str, Sequence[str]] | None = None,
    ) -> pa.Table:
        """The snapshot as one pyarrow.Table; the Parquet data Pulse read is not copied again."""
        return self.reader(table, columns, version, partitions).read_all()

    def __repr__(self) -> str:
        return f"pulse.Lake({self.url!r})"


def open_lake(
    url: str | None = None,
    *,
    config: str | None = None,
    settings: Mapping[str, object] | None = None,
    environment: bool = True,
    create: bool = False,
) -> Lake:
    """Opens the lake at `url` (a folder, file:///abs/dir or s3://bucket/prefix) with the CLI's
    configuration layers: defaults < the `config` YAML file < PULSE_* environment variables (unless
    `environment` is False) < `url` < `settings` (keys as in pulse.yaml, e.g. {"s3.endpoint": ...}).
    Without `create`, a missing local lake is NotFoundError "no lake at URL"."""
    text = {str(k): _setting_text(v) for k, v in (settings or {}).items()}
    return Lake(_core.open_lake(url, config, text, environment, create))


def _setting_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
