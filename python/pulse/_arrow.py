"""Arrow C stream capsules from the extension as pyarrow objects (no copy of the buffers)."""

from __future__ import annotations

import pyarrow as pa


class _CapsuleStream:
    """Holds an "arrow_array_stream" PyCapsule and offers it through the PyCapsule protocol."""

    def __init__(self, capsule: object) -> None:
        self._capsule = capsule

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        if requested_schema is not None:
            raise NotImplementedError("pulse streams have a fixed schema")
        return self._capsule


def reader(capsule: object) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_stream(_CapsuleStream(capsule))


def table(capsule: object) -> pa.Table:
    return reader(capsule).read_all()
