"""The query log's file format, ``miaudit.querylog/1``: one JSON object per answered (or refused)
instance, written by ``miaudit log export`` and read by the campaign monitor."""

from miaudit.querylog.format import (
    SCHEMA,
    Malformed,
    QueryRecord,
    normal_address,
    read_jsonl,
    write_jsonl,
)

__all__ = ["SCHEMA", "Malformed", "QueryRecord", "normal_address", "read_jsonl", "write_jsonl"]
