"""Libraries built on requests, their own test suites, on requests and on brisk: ``make ecosystem``.

    python ecosystem/run.py [--suite NAME ...] [--mode MODE ...] [--timeout SECONDS] [--report]

For each suite below: the library's source release is downloaded from PyPI (pinned; ``pip download
--no-binary``), and two environments are made in ``ecosystem/.env/venv/`` with the same library, test
dependencies and pytest: one with requests 2.32.3, one with brisk installed as requests (requests is
installed with the rest, so that every other version matches, then uninstalled, and a ``.pth`` file calls
``brisk.install_as_requests()`` at interpreter start). The same test files run in three modes, each in a
fresh copy of the source tree, with a per-test timeout and no internet (``offline.py``: loopback only):
``requests``, ``brisk``, and ``brisk-filled``, a diagnosis: brisk with stand-ins for the names of
requests' modules it lacks (``fill.py``), to see what fails behind a missing name that stops a whole suite.

Printed: per suite, the tests passed with requests, with brisk, and the share of the first that also pass
on brisk; the modules that could not be collected; the first failure of each test that passes with
requests only (as brisk is, and in the diagnosis), grouped; the tests that tried to reach the internet.
Written to ``ecosystem/.env/``: ``<suite>-<mode>.txt`` (pytest's output), ``<suite>-<mode>-<n>.xml``
(JUnit XML), ``<suite>-<mode>-network.log``, ``<suite>-<mode>-freeze.txt`` (the environment) and
``summary.json`` (all of it, per test); after a full run also ``ecosystem/results.json``, the same without
the per-test lists (the figures ecosystem/README.md quotes). ``--report`` summarises the last run again.

CacheControl's source release carries no tests: its tests (tag v0.14.4, Apache-2.0, see the NOTICE there)
are copied from ``../shared/ecosystem/cachecontrol-tests`` at run time (``CACHECONTROL_TESTS`` overrides
the path); where that directory does not exist (a CI checkout) the suite is skipped with the reason printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".env"
REQUESTS = "requests==2.32.3"
PYTEST = ("pytest>=8,<9", "pytest-timeout")
MODES = ("requests", "brisk")
DIAGNOSIS = "brisk-filled"  # brisk, with stand-ins for the names it lacks (fill.py): diagnosis only
REQUESTS_MODULES = (
    "", "adapters", "api", "auth", "certs", "compat", "cookies", "exceptions", "help", "hooks", "models",
    "packages", "sessions", "status_codes", "structures", "utils", "_internal_utils",
)  # fmt: skip
RUN_LIMIT = 1800  # seconds for one pytest invocation, whatever the per-test timeout
CACHECONTROL_TESTS = Path(
    os.environ.get("CACHECONTROL_TESTS", ROOT.parent / "shared" / "ecosystem" / "cachecontrol-tests")
)
# Not passed to the tests: a proxy could carry them off loopback; a CA bundle would differ per machine.
UNSET = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@dataclass(frozen=True)
class Suite:
    name: str
    project: str  # as on PyPI
    version: str
    deps: tuple[str, ...]  # what the tests import besides the library (its tox.ini, setup, requirements)
    runs: tuple[tuple[str, ...], ...]  # pytest's arguments, one tuple per pytest invocation
    extras: str = ""
    external_tests: Path | None = None  # tests that are not in the source release, copied to tests/
    notes: tuple[str, ...] = field(default=())

    @property
    def sdist_name(self) -> str:
        return normal(f"{self.project}-{self.version}")


def normal(name: str) -> str:
    """A file name as PyPI may spell a project's (``requests_mock`` or ``requests-mock``), one way."""
    return name.lower().replace("_", "-")


SUITES = (
    Suite(
        "responses",
        "responses",
        "0.26.2",  # 0.26.3's source release dropped the tests
        ("pytest-asyncio", "pytest-httpserver", "tomli-w"),
        (("responses/tests", "--asyncio-mode=auto"),),
    ),
    Suite(
        "requests-mock",
        "requests-mock",
        "1.12.1",
        ("fixtures", "purl", "testtools", "requests-futures", "mock"),
        (("tests", "--ignore=tests/pytest"), ("tests/pytest",)),  # tox runs tests/pytest on its own
    ),
    Suite(
        "requests-toolbelt",
        "requests-toolbelt",
        "1.0.0",
        ("mock", "pyopenssl", "trustme", "betamax==0.9.0"),
        (("tests",),),
    ),
    Suite(
        "requests-oauthlib",
        "requests-oauthlib",
        "2.0.0",
        ("oauthlib[signedtoken]", "requests-mock"),
        (("tests", "--ignore=tests/examples"),),
        notes=("tests/examples (not run) drive a browser through selenium against Auth0",),
    ),
    Suite(
        "cachecontrol",
        "cachecontrol",
        "0.14.4",
        ("cherrypy", "cheroot>=11.1.2", "mock"),
        (("tests",),),
        extras="filecache,redis",
        external_tests=CACHECONTROL_TESTS,
    ),
    Suite("betamax", "betamax", "0.9.0", ("mock",), (("tests",),)),
    # More suites of the same kind (issue 19's "Done when"): libraries and SDKs built on requests.
    Suite("requests-futures", "requests-futures", "1.1.0", ("pytest-httpbin",), (("tests",),)),
    Suite(
        "requests-unixsocket",
        "requests-unixsocket",
        "0.4.1",
        ("waitress",),
        (("requests_unixsocket/tests",),),
    ),
    Suite(
        "httpie",
        "httpie",
        "3.2.4",
        ("pytest-httpbin", "responses", "pytest-mock", "pyopenssl"),
        (("tests",),),
    ),
    Suite(
        "python-gitlab",
        "python-gitlab",
        "8.6.0",
        ("responses", "respx", "pytest-console-scripts", "anyio", "trio"),
        (("tests/unit",),),
        extras="graphql,yaml,autocompletion",
        notes=("tests/functional and tests/smoke (not run) need a GitLab server in docker",),
    ),
    Suite(
        "hvac",
        "hvac",
        "2.4.0",
        ("requests-mock", "parameterized", "pytest-mock", "authlib", "flask", "werkzeug", "jwcrypto"),
        (("tests/unit_tests", "-o", "addopts="),),  # its addopts run pytest-xdist
        extras="parser",
        notes=("tests/integration_tests (not run) start a Vault server",),
    ),
    Suite(
        "tableauserverclient",
        "tableauserverclient",
        "0.42",
        ("requests-mock", "pytest-subtests"),
        (("test", "-o", "addopts=", "-m", "not e2e and not packaging"),),  # its addopts run pytest-xdist
    ),
)


def say(message: str) -> None:
    print(message, flush=True)


def call(command: list[str], **kwargs: Any) -> None:
    subprocess.run(command, check=True, **kwargs)


# ------------------------------------------------------------------------------------------- preparation


def venv_python(suite: Suite, mode: str) -> Path:
    mode = "brisk" if mode == DIAGNOSIS else mode
    return WORK / "venv" / f"{suite.name}-{mode}" / "bin" / "python"


def site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    found = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    return Path(found.stdout.strip())


def sdist(suite: Suite, python: Path) -> Path:
    """The source release, downloaded once, unpacked once (``WORK/src/<project>-<version>``)."""
    downloads = WORK / "sdists"
    found = [p for p in downloads.glob("*.tar.gz") if normal(p.name) == f"{suite.sdist_name}.tar.gz"]
    if not found:
        call([str(python), "-m", "pip", "download", "-qq", "--no-deps", "--no-binary", suite.project,
              f"{suite.project}=={suite.version}", "-d", str(downloads)])  # fmt: skip
        found = [p for p in downloads.glob("*.tar.gz") if normal(p.name) == f"{suite.sdist_name}.tar.gz"]
    archive = found[0]
    unpacked = WORK / "src" / archive.name.removesuffix(".tar.gz")
    if not unpacked.is_dir():
        with tarfile.open(archive) as tar:
            tar.extractall(WORK / "src", filter="data")
    return archive


def prepare(suite: Suite, mode: str, python_for_venvs: str) -> Path:
    """The suite's environment for ``mode``, made (or remade when its recipe changed)."""
    python = venv_python(suite, mode)
    if not python.exists():
        call([python_for_venvs, "-m", "venv", str(python.parent.parent)])
    archive = sdist(suite, python)
    library = f"{suite.project}[{suite.extras}] @ {archive.as_uri()}" if suite.extras else str(archive)
    packages = [library, *suite.deps, *PYTEST, REQUESTS]
    if mode == "brisk":
        packages = ["-e", str(ROOT), *packages]
    stamp = python.parent.parent / ".ecosystem-recipe"
    helpers = {name: (HERE / name).read_text() for name in ("offline.py", "fill.py")}
    recipe = json.dumps({"packages": packages, **helpers})
    if stamp.exists() and stamp.read_text() == recipe:
        return python
    say(f"  installing {suite.name} ({mode}) ...")
    call([str(python), "-m", "pip", "install", "-qq", "--upgrade", "pip"])
    call([str(python), "-m", "pip", "install", "-qq", *packages])
    site = site_packages(python)
    shutil.copyfile(HERE / "offline.py", site / "brisk_ecosystem_offline.py")
    (site / "00_brisk_ecosystem_offline.pth").write_text("import brisk_ecosystem_offline\n")
    if mode == "brisk":
        call([str(python), "-m", "pip", "uninstall", "--quiet", "--yes", "requests"])
        (site / "zz_brisk_as_requests.pth").write_text("import brisk; brisk.install_as_requests()\n")
        shutil.copyfile(HERE / "fill.py", site / "brisk_ecosystem_fill.py")
        (site / "zzz_brisk_ecosystem_fill.pth").write_text("import brisk_ecosystem_fill\n")
    freeze = subprocess.run([python, "-m", "pip", "freeze"], check=True, capture_output=True, text=True)
    (WORK / f"{suite.name}-{mode}-freeze.txt").write_text(freeze.stdout)
    stamp.write_text(recipe)
    return python


LIST_NAMES = """
import builtins, importlib, inspect, json, sys
names = {}
for module in sys.argv[1:]:
    found = vars(importlib.import_module("requests" + ("." + module if module else "")))
    names[module] = sorted(
        n for n, v in found.items()
        if not n.startswith("__") and not inspect.ismodule(v) and getattr(builtins, n, None) is not v
    )
print(json.dumps(names, indent=1))
"""


def requests_names() -> Path:
    """The module-level names of requests 2.32.3's modules (from a requests environment), for fill.py."""
    names = WORK / "requests-names.json"
    if not names.exists():
        python = next(venv_python(s, "requests") for s in SUITES if venv_python(s, "requests").exists())
        command = [str(python), "-P", "-c", LIST_NAMES, *REQUESTS_MODULES]
        listed = subprocess.run(command, check=True, capture_output=True, text=True)
        names.write_text(listed.stdout)
    return names


def has_pytest_config(tree: Path) -> bool:
    sections = {"pytest.ini": "", "tox.ini": "[pytest]", "setup.cfg": "[tool:pytest]",
                "pyproject.toml": "[tool.pytest"}  # fmt: skip
    for name, section in sections.items():
        path = tree / name
        if path.exists() and section in path.read_text(encoding="utf-8", errors="replace"):
            return True
    return False


def fresh_tree(suite: Suite, mode: str) -> Path:
    """A copy of the unpacked source release to run in (tests may write files: cassettes, caches)."""
    source = next(p for p in (WORK / "src").iterdir() if normal(p.name) == suite.sdist_name)
    tree = WORK / "run" / f"{suite.name}-{mode}"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(source, tree, symlinks=True)
    if suite.external_tests is not None:
        target = tree / "tests"
        target.mkdir(exist_ok=True)
        for path in sorted(suite.external_tests.rglob("*")):  # copied as plain files: the source is read-only
            destination = target / path.relative_to(suite.external_tests)
            if path.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
            else:
                shutil.copyfile(path, destination)
    if not has_pytest_config(tree):  # else pytest would take brisk's own settings from ../../pyproject.toml
        (tree / "pytest.ini").write_text("[pytest]\n")
    return tree


# --------------------------------------------------------------------------------------------------- runs


def run(suite: Suite, mode: str, python: Path, timeout: int) -> None:
    tree = fresh_tree(suite, mode)
    output = WORK / f"{suite.name}-{mode}.txt"
    network = WORK / f"{suite.name}-{mode}-network.log"
    network.unlink(missing_ok=True)
    for old in WORK.glob(f"{suite.name}-{mode}-*.xml"):
        old.unlink()
    env = {k: v for k, v in os.environ.items() if k.upper() not in UNSET and k != "PYTEST_ADDOPTS"}
    env["BRISK_ECOSYSTEM_OFFLINE"] = str(network)
    if mode == DIAGNOSIS:
        env["BRISK_ECOSYSTEM_FILL"] = str(requests_names())
    started = time.monotonic()
    with output.open("w", encoding="utf-8") as out:
        for number, arguments in enumerate(suite.runs):
            xml = WORK / f"{suite.name}-{mode}-{number}.xml"
            command = [str(python), "-m", "pytest", "-p", "no:cacheprovider", f"--timeout={timeout}",
                       "-rfE", "--tb=short", f"--junitxml={xml}", *arguments]  # fmt: skip
            out.write(f"$ {' '.join(command)}\n")
            out.flush()
            process = subprocess.Popen(
                command, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                code = process.wait(timeout=RUN_LIMIT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                code = -1
                out.write(f"\n[run.py] stopped after {RUN_LIMIT} s\n")
            out.write(f"[run.py] exit status {code}\n")
    meta = {"seconds": round(time.monotonic() - started, 1), "git": git_state()}
    (WORK / f"{suite.name}-{mode}-meta.json").write_text(json.dumps(meta))


def git_state() -> str:
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head


# ------------------------------------------------------------------------------------------------ results

NUMBERS = re.compile(r"\b\d{4,}\b|0x[0-9a-f]+")


def signature(message: str) -> str:
    """A failure message reduced to what groups alike failures (first line, no addresses or ports)."""
    lines = [part.strip() for part in message.splitlines() if part.strip()] or ["(no message)"]
    # A testtools test's failure is its whole traceback: the exception is on the last line.
    line = lines[-1] if "_StringException: Traceback" in message else lines[0]
    return NUMBERS.sub("N", line.replace(f"{ROOT}/", ""))[:200]


def last_error_line(text: str) -> str:
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return lines[-1].replace(f"{ROOT}/", "") if lines else signature(text)


def junit_id(nodeid: str) -> str:
    """pytest's node id (``tests/test_a.py::TestB::test_c[x]``) as the JUnit XML names it."""
    parts = nodeid.split("::")
    module = parts[0].removesuffix(".py").replace("/", ".")
    return f"{'.'.join([module, *parts[1:-1]])}::{parts[-1]}"


def read_mode(suite: Suite, mode: str) -> dict[str, Any]:
    """Per test: passed, failed, skipped; the modules that failed to import; what pytest said at the end."""
    tests: dict[str, tuple[str, str]] = {}  # id -> (outcome, failure message)
    collection: dict[str, str] = {}  # module -> error
    output = WORK / f"{suite.name}-{mode}.txt"
    text = output.read_text(encoding="utf-8", errors="replace") if output.exists() else ""
    files = sorted(WORK.glob(f"{suite.name}-{mode}-[0-9]*.xml"))
    for xml in files:
        for case in ET.parse(xml).getroot().iter("testcase"):
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            if problem is not None and problem.get("message") == "collection failure":
                collection[case.get("name", "")] = last_error_line(problem.text or "")
            elif problem is not None:
                tests[name] = ("failed", signature(problem.get("message") or problem.text or ""))
            elif case.find("skipped") is not None:
                tests[name] = ("skipped", "")
            else:
                tests[name] = ("passed", "")
    startup = ""
    if not files or not (tests or collection):
        tail = [line for line in text.splitlines() if line.strip() and not line.startswith("[run.py]")]
        startup = tail[-1].replace(f"{ROOT}/", "")[:300] if tail else "no output"
    network: dict[str, set[str]] = {}  # test -> hosts it tried
    log = WORK / f"{suite.name}-{mode}-network.log"
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            test, _, what = line.partition("\t")
            network.setdefault(junit_id(test) if "::" in test else test, set()).add(what)
    meta = WORK / f"{suite.name}-{mode}-meta.json"
    outcomes = Counter(outcome for outcome, _ in tests.values())
    return {
        "passed": outcomes["passed"],
        "failed": outcomes["failed"],
        "skipped": outcomes["skipped"],
        "collection_errors": collection,
        "did_not_start": startup,
        "network": {test: sorted(hosts) for test, hosts in sorted(network.items())},
        "tests": tests,
        **(json.loads(meta.read_text()) if meta.exists() else {}),
    }


def module_of(test: str, collection: dict[str, str]) -> str | None:
    dotted = test.split("::", 1)[0]
    return next((m for m in collection if dotted == m or dotted.startswith(m + ".")), None)


def causes(lost: list[str], on_requests: dict[str, Any], on_brisk: dict[str, Any]) -> Counter[str]:
    """Why each test that passes with requests does not pass on brisk, as brisk's run says it."""
    found: Counter[str] = Counter()
    for test in lost:
        if test in on_brisk["tests"]:
            outcome, message = on_brisk["tests"][test]
            if outcome != "failed":
                message = f"({outcome} on brisk)"
            elif test in on_brisk["network"] and test not in on_requests["network"]:
                message = f"went to the network (a mock did not catch the request): {message}"
            found[message] += 1
        elif on_brisk["did_not_start"]:
            found[f"pytest did not start: {on_brisk['did_not_start']}"] += 1
        else:
            module = module_of(test, on_brisk["collection_errors"])
            error = on_brisk["collection_errors"].get(module or "", "not collected")
            found[f"import of the test module failed: {error}"] += 1
    return found


def compare(suite: Suite, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    on_requests, on_brisk = runs["requests"], runs["brisk"]
    passed = {t for t, (outcome, _) in on_requests["tests"].items() if outcome == "passed"}
    passed_brisk = {t for t, (outcome, _) in on_brisk["tests"].items() if outcome == "passed"}
    lost = sorted(passed - passed_brisk)
    both = len(passed & passed_brisk)
    row = {
        "suite": suite.name,
        "library": f"{suite.project} {suite.version}",
        "passed_requests": len(passed),
        "passed_brisk": len(passed_brisk),
        "passed_both": both,
        "percent": round(100 * both / len(passed), 1) if passed else None,
        "collection_errors_requests": len(on_requests["collection_errors"]),
        "collection_errors_brisk": len(on_brisk["collection_errors"]),
        "brisk_did_not_start": on_brisk["did_not_start"],
        "passed_on_brisk_only": sorted(passed_brisk - passed),
        "lost_on_brisk": lost,
        "causes_on_brisk": causes(lost, on_requests, on_brisk).most_common(),
        "network_with_requests": on_requests["network"],
        "notes": list(suite.notes),
        "modes": {mode: {k: v for k, v in data.items() if k != "tests"} for mode, data in runs.items()},
    }
    if DIAGNOSIS in runs:
        filled = runs[DIAGNOSIS]
        passed_filled = {t for t, (outcome, _) in filled["tests"].items() if outcome == "passed"}
        lost_filled = sorted(passed - passed_filled)
        row["diagnosis"] = {
            "passed_both": len(passed & passed_filled),
            "causes": causes(lost_filled, on_requests, filled).most_common(),
            "lost": {test: filled["tests"].get(test, ("not run", ""))[1] for test in lost_filled},
        }
    return row


def table(rows: list[dict[str, Any]]) -> str:
    header = ("suite", "passed with requests", "passed with brisk", "% of requests' passes on brisk",
              "errors at collection (requests / brisk)")  # fmt: skip
    lines = [header]
    for row in rows:
        percent = "—" if row["percent"] is None else f"{row['percent']:.0f} %"
        errors = f"{row['collection_errors_requests']} / {row['collection_errors_brisk']}"
        if row["brisk_did_not_start"]:
            errors += " (pytest did not start on brisk)"
        lines.append((row["suite"], str(row["passed_requests"]), str(row["passed_brisk"]), percent, errors))
    total_requests = sum(r["passed_requests"] for r in rows)
    total_both = sum(r["passed_both"] for r in rows)
    share = f"{100 * total_both / total_requests:.0f} %" if total_requests else "—"
    lines.append(("total", str(total_requests), str(sum(r["passed_brisk"] for r in rows)), share, ""))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rendered = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |"
                for line in lines]  # fmt: skip
    rendered.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(rendered)


def report(suites: list[Suite], skipped: dict[str, str], full: bool) -> None:
    rows = []
    for suite in suites:
        if suite.name in skipped:
            continue
        runs = {mode: read_mode(suite, mode) for mode in (*MODES, DIAGNOSIS)}
        if not (WORK / f"{suite.name}-{DIAGNOSIS}.txt").exists():
            del runs[DIAGNOSIS]
        rows.append(compare(suite, runs))
    say("")
    say(table(rows))
    for name, reason in skipped.items():
        say(f"skipped {name}: {reason}")
    for row in rows:
        say(f"\n{row['suite']}: why tests that pass with requests do not pass on brisk (tests, reason)")
        for message, count in row["causes_on_brisk"][:5]:
            say(f"  {count:4d}  {message}")
        if "diagnosis" in row:
            diagnosis = row["diagnosis"]
            say(f"  with stand-ins for the names brisk lacks (diagnosis): {diagnosis['passed_both']} pass")
            for message, count in diagnosis["causes"][:10]:
                say(f"  {count:4d}  {message}")
        if row["network_with_requests"]:
            count = len(row["network_with_requests"])
            say(f"  {count} tests try to reach the internet (refused, with requests too)")
        for note in row["notes"]:
            say(f"  note: {note}")
    overall = {"measured": Counter(), "diagnosis": Counter()}
    for row in rows:
        overall["measured"].update(dict(row["causes_on_brisk"]))
        overall["diagnosis"].update(dict(row.get("diagnosis", {}).get("causes", [])))
    for kind, title in (("measured", "as brisk is"), ("diagnosis", "with stand-ins for missing names")):
        if overall[kind]:
            say(f"\nall suites, {title}: the first failure of the tests that pass with requests")
            for message, count in overall[kind].most_common(15):
                say(f"  {count:4d}  {message}")
    summary = {
        "suites": rows,
        "skipped": skipped,
        "git_at_run": sorted({d["git"] for row in rows for d in row["modes"].values() if d.get("git")}),
        "causes": {kind: found.most_common() for kind, found in overall.items()},
    }
    (WORK / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    say(f"\nper-suite output: {WORK.relative_to(ROOT)}/<suite>-<mode>.txt; summary: "
        f"{WORK.relative_to(ROOT)}/summary.json")  # fmt: skip
    if full:  # the figures README quotes, without the per-test lists
        slim = {**summary, "suites": [slim_row(row) for row in rows]}
        (HERE / "results.json").write_text(json.dumps(slim, indent=1) + "\n")


def slim_row(row: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in row.items() if k not in ("lost_on_brisk", "modes", "diagnosis")}
    if "diagnosis" in row:
        kept["diagnosis"] = {k: v for k, v in row["diagnosis"].items() if k != "lost"}
    kept["seconds"] = {mode: data.get("seconds") for mode, data in row["modes"].items()}
    return kept


# ---------------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", choices=[s.name for s in SUITES], help="default: all")
    parser.add_argument("--mode", action="append", choices=(*MODES, DIAGNOSIS), help="default: all three")
    parser.add_argument("--timeout", type=int, default=20, help="seconds per test (default 20)")
    parser.add_argument("--report", action="store_true", help="summarise the last run only")
    args = parser.parse_args()
    suites = [s for s in SUITES if not args.suite or s.name in args.suite]
    modes = args.mode or [*MODES, DIAGNOSIS]
    python_for_venvs = os.environ.get("PYTHON", sys.executable)
    WORK.mkdir(exist_ok=True)
    skipped = {}
    for suite in suites:
        if suite.external_tests is not None and not suite.external_tests.is_dir():
            skipped[suite.name] = (
                f"its tests are not in its source release, and {suite.external_tests} is absent"
            )
            say(f"skipping {suite.name}: {skipped[suite.name]}")
            continue
        if args.report:
            continue
        for mode in modes:
            python = prepare(suite, "brisk" if mode == DIAGNOSIS else mode, python_for_venvs)
            say(f"running {suite.name} with {mode} ...")
            run(suite, mode, python, args.timeout)
    report(suites, skipped, full=not args.suite and not args.mode and not skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
