"""OpenAI's published example responses parse exactly, and their identities hold."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits.client import (
    CompletionsUsagePage,
    CompletionsUsageResult,
    completions_usage_call,
    costs_call,
)
from codex_credits.client._calls import decode

DATA = Path(__file__).resolve().parents[1] / "data" / "openai-usage-api"


def _text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _completions_results() -> list[CompletionsUsageResult]:
    page = decode(completions_usage_call(start=0), _text("usage-completions.page.json"))
    grouped = CompletionsUsageResult.model_validate(
        json.loads(_text("usage-completions-result.grouped.json"), parse_float=Decimal)
    )
    return [*page.data[0].results, grouped]


def test_completions_page_parses() -> None:
    page = decode(completions_usage_call(start=0), _text("usage-completions.page.json"))
    assert isinstance(page, CompletionsUsagePage)
    assert page.has_more is True
    assert page.next_page == "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="
    bucket = page.data[0]
    assert (bucket.start_time, bucket.end_time) == (1730419200, 1730505600)
    assert bucket.end_time - bucket.start_time == 86_400
    result = bucket.results[0]
    assert (result.input_tokens, result.output_tokens, result.num_model_requests) == (1000, 500, 5)
    assert result.project_id is None and result.model is None and result.batch is None


def test_grouped_result_parses() -> None:
    grouped = _completions_results()[1]
    assert grouped.project_id == "proj_abc"
    assert grouped.model == "gpt-4o-mini-2024-07-18"
    assert grouped.batch is False
    assert grouped.service_tier == "default"


@pytest.mark.parametrize("index", [0, 1], ids=["page-result", "grouped-result"])
def test_token_identities(index: int) -> None:
    r = _completions_results()[index]
    assert r.input_uncached_tokens is not None and r.input_cached_tokens is not None
    assert r.input_cache_write_tokens is not None
    assert (
        r.input_tokens
        == r.input_uncached_tokens + r.input_cached_tokens + r.input_cache_write_tokens
    )
    assert r.input_uncached_tokens == (
        (r.input_text_tokens or 0) + (r.input_audio_tokens or 0) + (r.input_image_tokens or 0)
    )
    assert r.input_cached_tokens == (
        (r.input_cached_text_tokens or 0)
        + (r.input_cached_audio_tokens or 0)
        + (r.input_cached_image_tokens or 0)
    )
    assert r.output_tokens == (
        (r.output_text_tokens or 0) + (r.output_audio_tokens or 0) + (r.output_image_tokens or 0)
    )


def test_costs_page_amount_is_exact() -> None:
    page = decode(costs_call(start=0), _text("costs.page.json"))
    assert page.has_more is False and page.next_page is None
    result = page.data[0].results[0]
    assert result.amount is not None
    assert result.amount.value == Decimal("0.06")
    assert str(result.amount.value) == "0.06"  # never 0.059999999999999997779...
    assert result.amount.currency == "usd"
    assert result.line_item is None and result.quantity is None


def test_only_four_fields_are_required() -> None:
    minimal = {"object": "organization.usage.completions.result", "input_tokens": 1}
    minimal |= {"output_tokens": 2, "num_model_requests": 3}
    result = CompletionsUsageResult.model_validate(minimal)
    assert result.input_cached_tokens is None
    with pytest.raises(ValueError, match="num_model_requests"):
        CompletionsUsageResult.model_validate(
            {k: v for k, v in minimal.items() if k != "num_model_requests"}
        )
