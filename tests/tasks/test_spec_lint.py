"""Task specs (loading, every bad field named) and the three-bounds linter."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits.errors import ConfigError
from codex_credits.tasks.lint import LINT_RULES, LintRule, Severity, lint_task
from codex_credits.tasks.spec import TaskSpec, load_tasks, tasks_from_text
from tests.tasks.conftest import BOUNDED, SEED_BAD, SEED_GOOD

SEED_BAD_CODES = [
    "input.whole_repository",
    "input.no_file_scope",
    "input.all_tools",
    "output.no_done_when",
    "output.no_deliverable",
    "execution.full_test_suite",
    "execution.no_timeout",
    "execution.no_iteration_cap",
]


def test_seed_poorly_scoped_task_raises_every_open_bound(bad: TaskSpec) -> None:
    findings = lint_task(bad)
    assert [f.code for f in findings] == SEED_BAD_CODES
    # the seed's 12-25 CCU (mid 18.5) against 1.5-3 (mid 2.25): 16.25 CCU at risk
    assert sum(f.ccu_at_risk for f in findings) == Decimal("16.25")
    assert {f.bound for f in findings} == {"input", "output", "execution"}
    assert all(f.reason for f in findings)


def test_well_bounded_spec_has_no_finding(bounded: TaskSpec) -> None:
    assert lint_task(bounded) == []


def test_seed_well_scoped_task_lacks_only_the_checklist_fields() -> None:
    codes = {f.code for f in lint_task(TaskSpec.model_validate(SEED_GOOD))}
    assert codes == {"output.no_done_when", "execution.no_timeout", "execution.no_iteration_cap"}


REMOVALS = {
    "file_scope": "input.no_file_scope",
    "tools": "input.no_tools",
    "done_when": "output.no_done_when",
    "test_filter": "execution.no_test_filter",
    "timeout": "execution.no_timeout",
    "max_iterations": "execution.no_iteration_cap",
}


@given(st.sets(st.sampled_from(sorted(REMOVALS)), min_size=1))
def test_removing_a_bound_reports_exactly_that_bound(removed: set[str]) -> None:
    data = {k: v for k, v in BOUNDED.items() if k not in removed}
    codes = {f.code for f in lint_task(TaskSpec.model_validate(data))}
    expected = {REMOVALS[k] for k in removed}
    if "file_scope" in removed:
        expected.add("output.no_deliverable")  # the scope's files were the deliverables
    assert codes == expected


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("repository", "whole-repo", "input.whole_repository"),
        ("file_scope", ["**"], "input.broad_file_scope"),
        ("tools", ["*"], "input.all_tools"),
        ("test_filter", "tests/", "execution.full_test_suite"),
        ("test_filter", "all tests", "execution.full_test_suite"),
    ],
)
def test_open_values_are_findings(field: str, value: object, code: str) -> None:
    spec = TaskSpec.model_validate({**BOUNDED, field: value})
    assert code in {f.code for f in lint_task(spec)}


def test_rules_are_data_a_team_extends() -> None:
    rule = LintRule(
        code="team.too_many_files",
        bound="input",
        field="file_scope",
        when="more_than",
        limit=Decimal(1),
        severity=Severity.ERROR,
        reason="our tasks touch one file",
        ccu_at_risk=Decimal(2),
    )
    spec = TaskSpec.model_validate(BOUNDED)
    assert lint_task(spec) == []
    [finding] = lint_task(spec, (*LINT_RULES, rule))
    assert (finding.code, finding.severity, finding.ccu_at_risk) == (
        "team.too_many_files",
        Severity.ERROR,
        Decimal(2),
    )
    with pytest.raises(ValueError, match="needs a pattern"):
        LintRule(code="x", bound="input", field="tools", when="matches", reason="r")


def test_timeout_forms() -> None:
    assert TaskSpec(instruction="x", timeout="90s").timeout == Decimal("1.5")
    assert TaskSpec(instruction="x", timeout="1h").timeout == Decimal(60)
    assert TaskSpec(instruction="x", timeout=15).timeout == Decimal(15)
    with pytest.raises(ValueError, match="timeout"):
        TaskSpec(instruction="x", timeout="soon")


def test_json_jsonl_and_toml_load_the_same_specs(tmp_path: Path) -> None:
    specs = [SEED_BAD, BOUNDED]
    (tmp_path / "t.json").write_text(json.dumps({"tasks": specs}, indent=2))
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(s) for s in specs) + "\n")
    toml = "\n".join(
        "[[tasks]]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in s.items()) for s in specs
    )
    (tmp_path / "t.toml").write_text(toml)
    loaded = [load_tasks(tmp_path / f"t.{ext}") for ext in ("json", "jsonl", "toml")]
    assert loaded[0] == loaded[1] == loaded[2]
    assert loaded[0][0].test_filter == "full_test_suite"


def test_every_bad_field_is_named_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(BOUNDED)
        + "\n"
        + json.dumps({"instruction": "", "max_iterations": 0})
        + "\n\n"
        + json.dumps({**BOUNDED, "timeout": "soon", "colour": "red"})
        + "\n"
    )
    with pytest.raises(ConfigError) as info:
        load_tasks(path)
    problems = info.value.problems
    assert any(p.startswith(f"{path}:2: instruction") for p in problems)
    assert any(p.startswith(f"{path}:2: max_iterations") for p in problems)
    assert any(p.startswith(f"{path}:4: timeout") for p in problems)
    assert any(p.startswith(f"{path}:4: colour") for p in problems)


def test_json_array_problems_name_the_line_of_the_task() -> None:
    text = json.dumps([BOUNDED, {**BOUNDED, "max_ccu": "-1"}], indent=2)
    with pytest.raises(ConfigError) as info:
        tasks_from_text(text, "json", source="t.json")
    lines = text.splitlines()
    line = lines.index("  {", lines.index("  {") + 1) + 1
    assert info.value.problems[0].startswith(f"t.json:{line}: max_ccu")


def test_toml_problems_name_the_line_of_the_table() -> None:
    text = '[[tasks]]\ninstruction = "a"\n\n[[tasks]]\ninstruction = "b"\nmax_files = 0\n'
    with pytest.raises(ConfigError, match=r"t.toml:4: max_files"):
        tasks_from_text(text, "toml", source="t.toml")


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)


@given(
    st.lists(st.tuples(NAMES, NAMES), min_size=1, max_size=4),
    st.sets(
        st.sampled_from(["file_read", "file_write", "run_tests", "apply_patch", "shell"]),
        min_size=1,
    ),
    NAMES,
    st.integers(1, 120),
    st.integers(1, 10),
)
def test_any_well_bounded_spec_has_no_finding(
    files: list[tuple[str, str]], tools: set[str], test: str, timeout: int, cap: int
) -> None:
    scope = [f"src/{d}/{f}.py" for d, f in files]
    spec = TaskSpec(
        instruction="Fix it",
        repository="github.com/acme/service",
        file_scope=scope,
        tools=sorted(tools),
        test_filter=f"tests/unit/test_{test}.py::Test{test.title()} -k test_all_tests",
        done_when=f"tests/unit/test_{test}.py passes",
        timeout=timeout,
        max_iterations=cap,
    )
    assert lint_task(spec) == []
