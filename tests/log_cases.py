"""Good and hostile request logs (issue 15's cases and more), written into a folder for the engine tests.

Each case is ``(file name, writer, expected)``: ``expected`` is a callable that
checks the answer (a result dict) or a string that the one-line error must
contain. The same table drives the DuckDB engine, the Dask engine (which must
answer exactly the same) and the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

HEADER = "input_tokens,output_tokens"


def _text(text: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda path: path.write_bytes(text.encode(encoding))


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _parquet(build: Callable[[], Any], **options: Any) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(build(), path, **options)

    return write


def _table(**columns: Any) -> Callable[[], Any]:
    def build() -> Any:
        import pyarrow as pa

        return pa.table({name: value() if callable(value) else value for name, value in columns.items()})

    return build


def _rows(requests: int, tokens_in: int | None = None, tokens_out: int | None = None, rows: int | None = None) -> Callable[[dict], None]:
    def check(result: dict) -> None:
        assert isinstance(result, dict), result
        assert result["totals"]["requests"] == requests
        if tokens_in is not None:
            assert result["totals"]["input_tokens"] == tokens_in
        if tokens_out is not None:
            assert result["totals"]["output_tokens"] == tokens_out
        if rows is not None:
            assert result["rows"] == rows

    return check


def _period(first: str, last: str, requests: int) -> Callable[[dict], None]:
    def check(result: dict) -> None:
        assert isinstance(result, dict), result
        assert result["period"] == {"first": first, "last": last}
        assert result["totals"]["requests"] == requests

    return check


def _deep(depth: int) -> str:
    return '{"input_tokens": ' + "[" * depth + "]" * depth + ', "output_tokens": 5}\n'


def _corrupt_parquet(path: Path) -> None:
    """A Parquet file whose data pages are overwritten with garbage (the footer stays readable)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"input_tokens": pa.array(range(1, 20001)), "output_tokens": pa.array(range(1, 20001))})
    pq.write_table(table, path, compression="snappy", use_dictionary=False)
    data = bytearray(path.read_bytes())
    for offset in range(8, len(data) // 2):  # the first half: pages of both columns, not the footer
        data[offset] = 0xFF
    path.write_bytes(bytes(data))


def _duplicate_parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4]), pa.array([5, 6])], names=["input_tokens", "output_tokens", "input_tokens"])
    pq.write_table(table, path)


def _date32(path: Path) -> None:
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    days = [datetime.date(2025, 3, 1), datetime.date(2025, 3, 4)]
    pq.write_table(pa.table({"timestamp": pa.array(days, pa.date32()), "input_tokens": [10, 20], "output_tokens": [1, 2]}), path)


def _bomb(path: Path) -> None:
    """200 million rows of constants: about 1.5 MB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    column = pa.repeat(pa.scalar(1, pa.int64()), 10_000_000)
    table = pa.table({"input_tokens": column, "output_tokens": column})
    with pq.ParquetWriter(path, table.schema) as writer:
        for _ in range(20):
            writer.write_table(table, row_group_size=10_000_000)


def _row_groups(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"input_tokens": [1] * 10_000, "output_tokens": [1] * 10_000}), path, row_group_size=1)


def _one_label_per_row(rows: int, column: str = "project_id") -> Callable[[Path], None]:
    return lambda path: path.write_text(HEADER + f",{column}\n" + "".join(f"10,5,{column}-{i}\n" for i in range(rows)))


def _long_header(path: Path) -> None:
    path.write_text(HEADER + "," + "x" * 140_000 + "\n10,5,a\n")


def _directory(path: Path) -> None:
    path.mkdir()


_SECONDS_CSV = "timestamp," + HEADER + "\n1740000000,1,1\n2025-03-01T00:00:00+02:00,1,1\n"
_SECONDS_JSONL = (
    '{"timestamp": 1740000000, "input_tokens": 1, "output_tokens": 1}\n'
    '{"timestamp": "1740000001", "input_tokens": 1, "output_tokens": 1}\n'
)
_NAN_COUNTS_CSV = HEADER + ",count\n1,1,NaN\n1,1,NULL\n1,1,N/A\n1,1,#N/A\n1,1,null\n1,1,\n"
_NAN_COUNTS_JSONL = (
    '{"input_tokens": 1, "output_tokens": 1, "count": "NaN"}\n'
    '{"input_tokens": 1, "output_tokens": 1, "count": "N/A"}\n'
)
_ABSURD_CSV = "timestamp," + HEADER + "\n-1e12,1,1\n1e20,1,1\n2025-03-01T00:00:00Z,1,1\n"
_ABSURD_JSONL = (
    '{"timestamp": 1e20, "input_tokens": 1, "output_tokens": 1}\n'
    '{"timestamp": 1740000000, "input_tokens": 1, "output_tokens": 1}\n'
)
_NAME_LIST = '{"input_tokens": 1, "output_tokens": 1, "region": ["fr"], "model": {"a": 1}}\n'
_DUPLICATE_KEY = '{"input_tokens": 1, "output_tokens": 1, "count": 1, "count": 1000}\n'
_HUGE_COUNT = '{"input_tokens": 1, "output_tokens": 1, "count": 1' + "0" * 400 + "}\n"


def _pa_list(*values: list) -> Callable[[], Any]:
    return lambda: __import__("pyarrow").array(list(values))


CASES: list[tuple[str, Callable[[Path], None] | None, Any, dict]] = [
    # --- good logs, and careless ones that still have one right answer
    ("sample.csv", _text(HEADER + ",count\n1000,100,2\n5000,40,1\n"), _rows(3, 7000, 240), {}),
    ("crlf_blank.csv", _text(HEADER + "\r\n1,2\r\n\r\n3,4\r\n,\r\n"), _rows(2, 4, 6, rows=2), {}),
    ("bom.csv", _bytes(b"\xef\xbb\xbf" + (HEADER + "\n7,8\n").encode()), _rows(1, 7, 8), {}),
    ("spaces_in_header.csv", _text(" input_tokens , output_tokens \n7,8\n"), _rows(1, 7, 8), {}),
    ("quoted_newline.csv", _text(HEADER + ',note\n1,2,"a\nb"\n3,4,c\n'), _rows(2, 4, 6), {}),
    ("trailing_comma.csv", _text(HEADER + "\n100,10,\n200,20,\n"), _rows(2, 300, 30), {}),
    ("exact_sums.csv", _text(HEADER + ",count\n" + "1,1,9999999999999\n" * 1000 + "1,1,1\n"), _rows(9_999_999_999_999_001), {}),
    ("unix_seconds.csv", _text(_SECONDS_CSV), _period("2025-02-19T21:20:00Z", "2025-02-28T22:00:00Z", 2), {}),
    ("unix_seconds.jsonl", _text(_SECONDS_JSONL), _period("2025-02-19T21:20:00Z", "2025-02-19T21:20:01Z", 2), {}),
    ("bom.jsonl", _bytes(b'\xef\xbb\xbf{"input_tokens": 3, "output_tokens": 4}\n'), _rows(1, 3, 4), {}),
    ("empty.jsonl", _text(""), _rows(0, rows=0), {}),
    ("blank_lines.jsonl", _text('\n{"input_tokens": 3, "output_tokens": 4}\n   \n{}\n'), _rows(1, 3, 4, rows=1), {}),
    ("date32.parquet", _date32, _period("2025-03-01T00:00:00Z", "2025-03-04T00:00:00Z", 2), {}),
    # --- refused, each with a one-line error naming the problem
    ("long_header_field.csv", _long_header, "line 1 (the header): field larger than field limit", {}),
    ("short_rows.csv", _text("input_tokens,output_tokens,region\n1,2,usa\n3,4\n"), "line 3: 2 fields, the header has 3", {}),
    ("too_many_fields.csv", _text(HEADER + "\n100,10,5\n200,20,5\n"), "2 bad rows, nothing estimated: line 2: 3 fields, the header has 2", {}),
    ("semicolons.csv", _text("input_tokens;output_tokens\n1;2\n"), "fields must be separated by commas, not ';'", {}),
    ("no_header.csv", _text("100,10\n200,20\n"), "missing column 'input_tokens'", {}),
    ("upper_case.csv", _text("Input_Tokens,output_tokens\n1,2\n"), "found 'Input_Tokens': names are lower case", {}),
    ("duplicate_header.csv", _text(HEADER + ",count,count\n1,1,1000,1\n"), "the header names 'count' twice", {}),
    ("nan_counts.csv", _text(_NAN_COUNTS_CSV), "5 bad rows", {}),
    ("nan_counts.jsonl", _text(_NAN_COUNTS_JSONL), "2 bad rows", {}),
    ("latin1.csv", _text(HEADER + ",region\n1,2,Besançon\n", "latin-1"), "line 2: not UTF-8 text", {}),
    ("absurd_times.csv", _text(_ABSURD_CSV), "line 2: timestamp: out of range (got '-1e12')", {}),
    ("absurd_times.jsonl", _text(_ABSURD_JSONL), "1 bad row, nothing estimated: line 1: timestamp: out of range (got 1e+20)", {}),
    ("deep.jsonl", _text('{"input_tokens": 1, "output_tokens": 1}\n' + _deep(30_000)), "line 2: input_tokens: not a number (got a list)", {}),
    ("pretty.json", _text(json.dumps({"input_tokens": 1, "output_tokens": 2}, indent=2)), "line 1: not valid JSON", {}),
    ("name_list.jsonl", _text(_NAME_LIST), "line 1: region: a list, not a name", {}),
    ("duplicate_key.jsonl", _text(_DUPLICATE_KEY), "line 1: a column is given twice", {}),
    ("huge_count.jsonl", _text(_HUGE_COUNT), "line 1: count:", {}),
    ("list_column.parquet", _parquet(_table(input_tokens=_pa_list([1], [2]), output_tokens=[1, 2])), "column 'input_tokens' has type BIGINT[]", {}),
    ("list_name.parquet", _parquet(_table(input_tokens=[1, 2], output_tokens=[1, 2], region=_pa_list(["a"], ["b"]))), "column 'region' has type VARCHAR[]", {}),
    ("duplicate_columns.parquet", _duplicate_parquet, "two columns named 'input_tokens'", {}),
    ("corrupt.parquet", _corrupt_parquet, "not a readable Parquet file", {}),
    ("not_parquet.parquet", _text("hello"), "not a readable Parquet file", {}),
    ("bomb.parquet", _bomb, "200,000,000 rows, over the cap of 100,000,000 rows", {}),
    ("row_groups.parquet", _row_groups, "10,000 row groups, over the cap of 4,096", {}),
    ("one_label_per_row.csv", _one_label_per_row(20_000), "20,000 groups, over the cap of 10,000 groups", {"group_by": ["project_id"]}),
    ("one_model_per_row.csv", _one_label_per_row(120_000, "model"), "more than 100,000 distinct combinations", {}),
    ("directory.csv", _directory, "not a file", {}),
    ("missing.csv", None, "file not found", {}),
]


def write_cases(folder: Path) -> list[tuple[str, Path, Any, dict]]:
    """Write every case into ``folder``; ``(name, path, expected, options)``."""
    out = []
    for name, writer, expected, options in CASES:
        path = folder / name
        if writer is not None:
            writer(path)
        out.append((name, path, expected, options))
    return out
