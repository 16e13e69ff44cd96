"""codex_credits.dask: the same statements as simulate_many, on a local two-worker cluster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from codex_credits import UsageEvent, simulate_many
from codex_credits.errors import ConfigError

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from codex_credits import dask as cc_dask  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)
TIERS = {"a1": "pro", "a2": "plus", "a3": "go", "a4": "free", "a5": "pro"}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _rows(seed: int = 3) -> Any:
    rng = np.random.default_rng(seed)
    n = 400
    hours = rng.integers(0, 24 * 40, n)
    micro = rng.integers(0, 80_000_000, n)
    return pd.DataFrame(
        {
            "timestamp": [
                START + timedelta(hours=int(h), seconds=int(s))
                for h, s in zip(hours, rng.integers(0, 3600, n), strict=True)
            ],
            "ccu": [f"{m // 10**6}.{m % 10**6:06d}" for m in micro.tolist()],
            "account_id": rng.choice(list(TIERS), n),
            "project_id": rng.choice(["web", "api"], n),
        }
    )


def _events(rows: Any) -> list[UsageEvent]:
    return [
        UsageEvent(timestamp=t, ccu=Decimal(c), account_id=a, project_id=p)
        for t, c, a, p in zip(
            rows.timestamp, rows.ccu, rows.account_id, rows.project_id, strict=True
        )
    ]


def test_a_dask_run_equals_simulate_many(client: Any) -> None:
    import dask.dataframe as dd

    rows = _rows()
    frame = dd.from_pandas(rows, npartitions=3)
    lazy = cc_dask.simulate_many(frame, TIERS, start=START, months=2, mode="request")
    got = lazy.compute().sort_values(["account_id", "period"]).reset_index(drop=True)
    want = simulate_many(_events(rows), TIERS, start=START, months=2).table()
    assert len(got) == len(want) == 2 * len(TIERS)
    for i, row in enumerate(want):
        for name, value in row.items():
            cell = got.loc[i, name]
            if isinstance(value, Decimal):
                assert Decimal(cell) == value, (i, name)
            elif isinstance(value, datetime):
                assert cell.to_pydatetime() == value, (i, name)
            else:
                assert cell == value, (i, name)


def test_a_partition_function_serves_one_account_as_spark_would() -> None:
    rows = _rows(5)
    one = rows[rows.account_id == "a2"]
    frame = cc_dask.simulate_partition(one, TIERS, start=START, months=1)
    want = simulate_many(_events(one), {"a2": "plus"}, start=START).table()
    assert list(frame.columns) == list(cc_dask.result_meta().columns)
    assert [Decimal(v) for v in frame.total_cost] == [r["total_cost"] for r in want]
    assert "account_id string" in cc_dask.SPARK_SCHEMA


def test_amounts_must_be_exact() -> None:
    rows = pd.DataFrame({"timestamp": [START], "ccu": [1.5], "account_id": ["a"]})
    with pytest.raises(ConfigError):
        cc_dask.log_from_frame(rows)
    naive = pd.DataFrame({"timestamp": [datetime(2026, 1, 1)], "ccu": ["1"], "account_id": ["a"]})
    with pytest.raises(ConfigError):
        cc_dask.log_from_frame(naive)
