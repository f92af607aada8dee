"""The documents point at tests that exist: every ``test_file::test_name`` in SECURITY.md names a test."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"(test_\w+)?::(test_\w+)")


def security_references() -> list[tuple[str, str]]:
    """(file, test) pairs of SECURITY.md; ``::name`` after ``file::name`` belongs to the same file."""
    found = []
    for line in (ROOT / "SECURITY.md").read_text().splitlines():
        current = None
        for match in REFERENCE.finditer(line):
            current = match.group(1) or current
            assert current is not None, f"a bare ::{match.group(2)} with no file before it: {line[:80]}"
            found.append((current, match.group(2)))
    return found


def test_security_md_names_only_tests_that_exist() -> None:
    references = security_references()
    assert len(references) > 150, "the hostile-case tables are where SECURITY.md says they are"
    missing = []
    for module, name in references:
        files = list((ROOT / "tests").rglob(f"{module}.py"))
        if len(files) != 1:
            missing.append(f"{module} ({len(files)} files of that name under tests/)")
            continue
        source = files[0].read_text()
        if not re.search(rf"^(async )?def {name}\(", source, re.MULTILINE):
            missing.append(f"{module}::{name}")
    assert not missing, f"SECURITY.md names tests that do not exist: {missing}"
