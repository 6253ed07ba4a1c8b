"""The ``miaudit.querylog/1`` file format: written and read back, and bad lines named."""

from __future__ import annotations

from pathlib import Path

import pytest

from miaudit.errors import InputError
from miaudit.querylog import QueryRecord, read_jsonl, write_jsonl


def test_records_round_trip(tmp_path: Path) -> None:
    records = [
        QueryRecord(1764460800.5, "analytics", "r1", "churn", [0.1, 2.0], [0.9, 0.1], "full", 200),
        QueryRecord(1764460801.0, "", "r2", "churn", None, None, "", 401),
        QueryRecord(1764460802.0, "bot", "r3", "churn", "some text", "spam", "label-only", 200),
        QueryRecord(1764460803.0, "bot", "r4", "churn", [1.0], 1, "full", 200, "2001:db8::7"),
    ]
    path = tmp_path / "log.jsonl"
    assert write_jsonl(records, path) == 4
    assert list(read_jsonl(path)) == records
    lines = path.read_text().splitlines()
    # the optional client: written only where known, so older readers see the lines they knew
    assert '"client"' not in lines[0] and lines[3].endswith(',"client":"2001:db8::7"}')


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"time": 1}', "missing key, request_id"),
        (
            '{"time": "noon", "key": "", "request_id": "", "model": "", "input": null, '
            '"output": null, "policy": "", "status": 200}',
            "time must be Unix seconds",
        ),
        (
            '{"time": 1, "key": "", "request_id": "", "model": "", "input": null, '
            '"output": null, "policy": "", "status": "ok"}',
            "status must be an HTTP status",
        ),
        (
            '{"time": 1, "key": "", "request_id": "", "model": "", "input": null, '
            '"output": null, "policy": "", "status": 200, "client": 17}',
            "client must be text or null",
        ),
        (
            '{"time": 1, "key": 5, "request_id": "", "model": "", "input": null, '
            '"output": null, "policy": "", "status": 200}',
            "key must be text",
        ),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("\n" + line + "\n")
    with pytest.raises(InputError, match=message) as found:
        list(read_jsonl(path))
    assert f"{path}:2" in str(found.value)
