"""Tables fit any terminal width, and never cut a number or a single word."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits.cli.output import Table

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-:0123456789", min_size=1, max_size=22)
numbers = st.decimals(min_value=0, max_value=10**9, places=6)
prose = st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=10), min_size=2, max_size=12)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    kinds = draw(st.lists(st.sampled_from(["word", "number", "prose"]), min_size=1, max_size=9))
    table = Table([f"column {i}" for i in range(len(kinds))], title=draw(st.none() | words))
    for _ in range(draw(st.integers(0, 6))):
        row: list[object] = []
        for kind in kinds:
            if kind == "word":
                row.append(draw(words))
            elif kind == "number":
                row.append(draw(numbers))
            else:
                row.append(" ".join(draw(prose)))
        table.add(*row)
    return table


@given(tables(), st.integers(min_value=50, max_value=200))
def test_tables_fit_and_keep_every_word(table: Table, width: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", str(width))
        text = table.render("table")
    assert all(len(line) <= width for line in text.splitlines())
    shown = set(text.split())
    for row in table.rows:
        for cell in row:
            if isinstance(cell, Decimal):
                assert format(cell, "f") in shown
            elif " " not in str(cell):
                assert str(cell) in shown


def test_a_table_that_fits_is_one_block() -> None:
    table = Table(["name", "CCU"], title="Totals")
    table.add("api", Decimal("12.500000"))
    table.add("web", Decimal("3"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "80")
        assert table.render("table").splitlines() == [
            "Totals",
            "name        CCU",
            "----- ---------",
            "api   12.500000",
            "web           3",
        ]
