"""The HTTP cache test suite (http-tests/cache-tests) against brisk's cache: the number of scenarios that
pass must not fall below the figure the README reports. (``make cache-conformance`` prints each failure.)"""

from __future__ import annotations

import pytest
from cache_tests_runner import load_scenarios, run_suite, summary

#: The figure in the README's caching section: scenarios passed, of those the suite runs on browsers.
RECORDED_PASSES = 253
RECORDED_REQUIRED = 129


@pytest.mark.timeout(300)
def test_the_cache_tests_pass_count_does_not_fall() -> None:
    results = run_suite()
    assert len(results) == len(load_scenarios()) == 300
    passed = {test_id for test_id, (outcome, _) in results.items() if outcome == "pass"}
    required = {test["id"] for test in load_scenarios() if test.get("kind", "required") == "required"}
    failures = "\n".join(f"{i}: {results[i][0]}: {results[i][1]}" for i in sorted(set(results) - passed))
    assert len(passed) >= RECORDED_PASSES, f"{summary(results)}\n{failures}"
    assert len(passed & required) >= RECORDED_REQUIRED, f"{summary(results)}\n{failures}"


def test_the_scenarios_are_the_suites_with_attribution() -> None:
    import json
    from pathlib import Path

    here = Path(__file__).parent / "cache_tests"
    data = json.loads((here / "scenarios.json").read_text())
    assert data["source"] == "https://github.com/http-tests/cache-tests"
    assert "Mark Nottingham" in (here / "LICENSE").read_text()
