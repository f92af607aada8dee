"""The import contract in pyproject.toml covers every module of src/brisk (``make lint`` checks the imports).

import-linter's layers contract only constrains the modules it names: a new top-level module or package left
out of it could import anything. This test makes leaving one out fail.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import brisk

ROOT = Path(__file__).resolve().parents[2]


def layer_rows() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    rows: list[str] = contract["layers"]
    return rows


def layer_entries() -> list[str]:
    return [name.strip() for row in layer_rows() for name in re.split(r"[|:]", row)]


def brisk_modules() -> list[str]:
    package = Path(brisk.__file__).parent
    names = []
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            names.append(".".join(("brisk", *parts)))
    return sorted(names)


def test_every_module_is_in_a_layer() -> None:
    entries = layer_entries()
    # a package is covered by its layer, or (when its modules sit in different layers) by theirs
    uncovered = [
        m
        for m in brisk_modules()
        if not any(m == e or m.startswith(e + ".") or e.startswith(m + ".") for e in entries)
    ]
    assert not uncovered, f"modules in no layer of pyproject.toml's import contract: {uncovered}"


def test_no_layer_entry_names_a_missing_module() -> None:
    modules = set(brisk_modules())
    stale = [e for e in layer_entries() if e not in modules]
    assert not stale, f"the import contract names modules that do not exist: {stale}"


def test_the_layers_catch_an_upward_import() -> None:
    """The layers, as grimp (import-linter's engine) reads them, refuse protocol -> sessions."""
    grimp = pytest.importorskip("grimp", reason="import-linter is a dev dependency")
    graph = grimp.build_graph("brisk", exclude_type_checking_imports=True)
    layers = [{name.strip() for name in re.split(r"[|:]", layer)} for layer in layer_rows()]
    before = graph.find_illegal_dependencies_for_layers(layers=layers)
    graph.add_import(importer="brisk._protocol.http11", imported="brisk.sessions")
    after = graph.find_illegal_dependencies_for_layers(layers=layers)
    added = {(d.importer, d.imported) for d in after} - {(d.importer, d.imported) for d in before}
    assert ("brisk._protocol", "brisk.sessions") in added
