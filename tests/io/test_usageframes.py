"""Columnar input: Parquet, Arrow, pandas, polars and DuckDB read like a file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits import UsageDataError, read_usage

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

CSV = (
    "timestamp,ccu,tool_calls,project_id\n"
    "2026-06-01T00:00:00Z,1.500000,2,a\n"
    "2026-06-01T01:00:00+02:00,0.25,,b\n"
    "2026-06-02T00:00:00Z,3,1,a\n"
)


def frame() -> object:
    return pd.DataFrame(
        {
            "timestamp": [
                "2026-06-01T00:00:00Z",
                "2026-06-01T01:00:00+02:00",
                "2026-06-02T00:00:00Z",
            ],
            "ccu": [Decimal("1.500000"), Decimal("0.25"), Decimal("3")],
            "tool_calls": [2, 0, 1],
            "project_id": ["a", "b", "a"],
        }
    )


def test_every_kind_reads_like_the_csv(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(CSV, encoding="utf-8")
    expected = list(read_usage(path))
    table = pa.Table.from_pandas(frame(), preserve_index=False)
    assert str(table.schema.field("ccu").type).startswith("decimal128")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(table, tmp_path / "u.parquet")
    sources: list[object] = [frame(), table, tmp_path / "u.parquet"]
    polars = pytest.importorskip("polars")
    sources.append(polars.from_arrow(table))
    duckdb = pytest.importorskip("duckdb")
    sources.append(duckdb.sql(f"select * from read_csv('{path}', all_varchar=true)"))
    for source in sources:
        assert list(read_usage(source)) == expected


def test_float_amounts_only_when_exact_and_errors_name_the_row() -> None:
    good = pd.DataFrame({"timestamp": ["2026-06-01T00:00:00Z"] * 2, "ccu": [0.5, 0.25]})
    assert [e.ccu for e in read_usage(good)] == [Decimal("0.25"), Decimal("0.5")]
    bad = pd.DataFrame({"timestamp": ["2026-06-01T00:00:00Z"] * 2, "ccu": [0.5, 0.1]})
    with pytest.raises(UsageDataError, match=r"<pandas.DataFrame>:2: field 'ccu'") as info:
        read_usage(bad)
    assert (info.value.line, info.value.field) == (2, "ccu")
    assert len(read_usage(bad, strict=False)) == 1


def test_naive_timestamps_are_refused() -> None:
    naive = pd.DataFrame({"timestamp": pd.to_datetime(["2026-06-01"]), "ccu": ["1"]})
    with pytest.raises(UsageDataError, match="no timezone offset"):
        read_usage(naive)
    aware = pd.DataFrame({"timestamp": pd.to_datetime(["2026-06-01"], utc=True), "ccu": ["1"]})
    assert read_usage(aware)[0].timestamp.isoformat() == "2026-06-01T00:00:00+00:00"
