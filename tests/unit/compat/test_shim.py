"""``brisk.install_as_requests()``: ``import requests`` answered by brisk for a whole process.

Each check runs in a fresh interpreter (no module imported by other tests, and nothing left behind in this
one); the pytest option runs in a pytest subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


def run_in_a_fresh_interpreter(code: str, *, path: Path | None = None) -> str:
    """Run ``code`` in a new Python process, require success, return what it printed."""
    command = [sys.executable, "-c", textwrap.dedent(code)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, cwd=path or Path.cwd()
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_brisk_loads_no_shim() -> None:
    """``import brisk`` stays as fast as it was: the shim is loaded when install_as_requests is first used."""
    run_in_a_fresh_interpreter(
        """
        import sys
        import brisk

        assert "brisk._compat.shim" not in sys.modules and "requests" not in sys.modules
        assert callable(brisk.install_as_requests) and "brisk._compat.shim" in sys.modules
        assert "requests" not in sys.modules  # looking it up installs nothing
        """
    )


def test_every_requests_module_is_brisks() -> None:
    run_in_a_fresh_interpreter(
        """
        import importlib, sys
        import brisk

        module = brisk.install_as_requests()
        import requests
        import requests.adapters, requests.api, requests.auth, requests.certs, requests.compat
        import requests.cookies, requests.exceptions, requests.help, requests.hooks, requests.models
        import requests.packages, requests.sessions, requests.status_codes, requests.structures
        import requests.utils, requests._internal_utils
        from requests.adapters import HTTPAdapter
        from requests.packages.urllib3.util.retry import Retry
        from requests.packages import urllib3

        assert requests is module is sys.modules["requests"]
        for name in ("adapters", "api", "auth", "compat", "cookies", "exceptions", "hooks", "models",
                     "packages", "sessions", "status_codes", "structures", "utils", "certs", "help",
                     "_internal_utils"):
            ours = importlib.import_module("brisk." + name)
            assert sys.modules["requests." + name] is ours, name
            assert getattr(requests, name) is ours, name
            assert ours.__spec__.name == "brisk." + name, "the module keeps its own spec"
        assert HTTPAdapter is brisk.adapters.HTTPAdapter
        assert (requests.Session, requests.get, requests.codes) == (brisk.Session, brisk.get, brisk.codes)
        assert requests.exceptions.HTTPError is brisk.HTTPError
        assert urllib3 is brisk.packages.urllib3 is requests.urllib3
        assert Retry is urllib3.util.retry.Retry
        assert requests.certs.where().endswith(".pem")
        assert requests.help.info()["requests"] == {"version": "2.32.3"}
        from brisk._protocol.accelerator import ACCELERATED, NOT_USED_BECAUSE
        expected: dict[str, object] = {"version": brisk.__version__, "c_accelerator": ACCELERATED}
        if not ACCELERATED:  # and why not
            expected["c_accelerator_off"] = NOT_USED_BECAUSE
        assert requests.help.info()["brisk"] == expected
        assert requests._internal_utils.to_native_string(b"abc") == "abc"
        assert "Session" in dir(requests) and "urllib3" in dir(requests)
        from requests import *  # noqa: F403
        assert Session is brisk.Session  # noqa: F405
        """
    )


def test_version_checks_written_for_requests_pass() -> None:
    run_in_a_fresh_interpreter(
        """
        import brisk

        brisk.install_as_requests()
        import requests
        from requests.__version__ import __build__, __title__, __version__

        assert requests.__version__ == __version__ == "2.32.3"
        assert requests.__version__ >= "2.0.0"  # requests-oauthlib's check
        assert requests.__build__ == __build__ == 0x023203
        assert requests.__build__ >= 0x020400  # requests-toolbelt's
        assert tuple(int(part) for part in requests.__version__.split(".")) >= (2, 28)
        assert __title__ == requests.__title__ == "requests"
        assert brisk.__version__ != "2.32.3" and requests.__brisk_version__ == brisk.__version__
        """
    )


def test_patches_through_requests_names_reach_brisk() -> None:
    """responses patches ``requests.adapters.HTTPAdapter.send``; a patch of a top-level name shows."""
    run_in_a_fresh_interpreter(
        """
        from unittest import mock
        import brisk

        brisk.install_as_requests()
        import requests

        with mock.patch("requests.adapters.HTTPAdapter.send") as send:
            assert brisk.adapters.HTTPAdapter.send is send
        assert brisk.adapters.HTTPAdapter.send is not send
        with mock.patch("requests.get") as get:
            assert requests.get is get
        assert requests.get is brisk.get
        with mock.patch.object(brisk, "post") as post:
            assert requests.post is post  # looked up on brisk at each access
        """
    )


def test_requests_functions_are_in_its_dict_and_replaceable_there() -> None:
    """requests-unixsocket's ``monkeypatch`` reads ``requests.__dict__["get"]``, puts its own function there,
    and puts the first back; a later patch of brisk's name still shows through requests."""
    run_in_a_fresh_interpreter(
        """
        from unittest import mock
        import brisk

        brisk.install_as_requests()
        import requests

        names = ("request", "get", "head", "post", "patch", "put", "delete", "options")
        saved = {name: requests.__dict__[name] for name in names}
        assert saved["get"] is brisk.get

        def replacement(url, **kwargs):
            return "replaced"

        requests.__dict__["get"] = replacement
        assert requests.get("http://example.invalid/") == "replaced"
        assert brisk.get is not replacement
        requests.__dict__.update(saved)
        assert requests.get is brisk.get
        with mock.patch.object(brisk, "get") as get:
            assert requests.get is get
        """
    )


def test_idempotent_and_reversible() -> None:
    run_in_a_fresh_interpreter(
        """
        import sys
        import brisk

        first = brisk.install_as_requests()
        finders = list(sys.meta_path)
        assert brisk.install_as_requests() is first
        assert sys.meta_path == finders
        import requests.sessions
        brisk.uninstall_as_requests()
        assert not [name for name in sys.modules if name == "requests" or name.startswith("requests.")]
        assert sys.meta_path == finders[1:]
        try:
            import requests
        except ImportError:
            pass  # requests itself is not installed here
        else:
            assert requests is not first
            sys.modules.pop("requests")
        brisk.uninstall_as_requests()  # nothing to undo: no error
        again = brisk.install_as_requests()
        import requests
        assert requests is again is not first
        assert requests.sessions is brisk.sessions
        """
    )


def test_refused_when_requests_is_already_imported() -> None:
    out = run_in_a_fresh_interpreter(
        """
        import sys, types
        import brisk

        real = sys.modules["requests"] = types.ModuleType("requests")
        finders = list(sys.meta_path)
        try:
            brisk.install_as_requests()
        except RuntimeError as exc:
            print(exc)
        else:
            raise AssertionError("installed over an imported requests")
        assert sys.modules["requests"] is real and sys.meta_path == finders
        """
    )
    assert "must run before anything imports requests" in out


def test_urllib3_submodules_by_path_are_urllib3s_own(tmp_path: Path) -> None:
    """With urllib3 installed, ``requests.packages.urllib3.<x>`` is urllib3's module ``x``, also for a
    submodule nobody had imported yet (one module object, not a second copy)."""
    package = tmp_path / "urllib3"
    (package / "util").mkdir(parents=True)
    (package / "contrib").mkdir()
    (package / "__init__.py").write_text("from . import exceptions, util\n")
    (package / "exceptions.py").write_text("class InsecureRequestWarning(Warning): pass\n")
    (package / "util" / "__init__.py").write_text("from .retry import Retry\n")
    (package / "util" / "retry.py").write_text("class Retry: pass\n")
    (package / "contrib" / "__init__.py").write_text("")
    (package / "contrib" / "extra.py").write_text("LOADS = []\nLOADS.append(1)\n")
    run_in_a_fresh_interpreter(
        """
        import sys
        sys.path.insert(0, ".")
        import brisk

        brisk.install_as_requests()
        import requests
        import requests.packages.urllib3.contrib.extra as extra
        from requests.packages.urllib3.util.retry import Retry
        import urllib3, urllib3.contrib.extra

        assert requests.packages.urllib3 is urllib3 is requests.urllib3
        assert extra is urllib3.contrib.extra and extra.__name__ == "urllib3.contrib.extra"
        assert extra.LOADS == [1]
        assert Retry is sys.modules["urllib3.util.retry"].Retry
        assert sys.modules["requests.packages.urllib3.util.retry"] is sys.modules["urllib3.util.retry"]
        """,
        path=tmp_path,
    )


TEST_FILE = """
import brisk
import requests
import requests.adapters

def test_requests_is_brisk():
    assert requests.Session is brisk.Session
    assert requests.adapters.HTTPAdapter is brisk.adapters.HTTPAdapter
    assert requests.__version__ == "2.32.3"
"""


def test_pytest_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_uses_requests=TEST_FILE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--brisk-as-requests")
    result.assert_outcomes(passed=1)


def test_pytest_option_from_pytest_addopts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_uses_requests=TEST_FILE)
    monkeypatch.setenv("PYTEST_ADDOPTS", "--brisk-as-requests")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


PLUGIN_SAW_BRISK = """
def test_plugin_saw_brisk():
    import early_plugin
    assert early_plugin.SEEN is requests
"""


def test_pytest_option_comes_before_a_plugin_that_imports_requests(pytester: pytest.Pytester) -> None:
    """betamax's pytest plugin imports requests when loaded: with ``-p brisk`` first, it gets brisk."""
    pytester.makepyfile(
        early_plugin="import requests\nSEEN = requests\n",
        test_uses_requests=TEST_FILE + PLUGIN_SAW_BRISK,
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "brisk", "-p", "early_plugin", "--brisk-as-requests"
    )
    result.assert_outcomes(passed=2)


def test_pytest_option_refuses_when_requests_came_first(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        fake_requests="import sys, types\nsys.modules['requests'] = types.ModuleType('requests')\n",
        test_uses_requests=TEST_FILE,
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "fake_requests", "-p", "brisk", "--brisk-as-requests"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--brisk-as-requests: brisk.install_as_requests() must run before*"])


def test_without_the_option_nothing_is_installed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="from brisk._compat.shim import installed\n\ndef test_off():\n    assert not installed()\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
