"""Virtual environments for brisk's peers, created under bench/.envs/<name> on first use.

Each peer gets a venv of its own: niquests pulls urllib3-future, which replaces urllib3 and would change
what "requests" and "urllib3" measure if they shared an environment. One venv per peer also keeps
import_time honest (no neighbour's packages on sys.path). brisk itself runs from the project venv, where it
is installed editable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ENVS = BENCH / ".envs"
PROJECT_PYTHON = Path(sys.executable)  # run.py runs in the project venv (make bench)


@dataclass(frozen=True)
class Env:
    """A venv and what it holds: `requirements` are pip arguments, `dists` the distributions to report."""

    name: str
    requirements: tuple[str, ...]
    dists: tuple[str, ...]

    @property
    def path(self) -> Path:
        return ENVS / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def stamp(self) -> Path:
        return self.path / ".bench-installed.json"


ENV_SPECS: dict[str, Env] = {
    e.name: e
    for e in (
        Env("requests", ("requests",), ("requests", "urllib3")),
        Env("requests-cache", ("requests-cache",), ("requests-cache", "requests")),
        # sniffio: without it httpcore retries a failing import on every async request (its fallback path).
        Env("httpx", ("httpx[http2]", "sniffio"), ("httpx", "httpcore", "h2", "anyio")),
        Env("urllib3", ("urllib3",), ("urllib3",)),
        Env("pycurl", ("pycurl",), ("pycurl",)),
        Env("aiohttp", ("aiohttp",), ("aiohttp",)),
        Env("websockets", ("websockets",), ("websockets",)),
        Env("niquests", ("niquests",), ("niquests", "urllib3-future")),
        Env("httpie", ("httpie",), ("httpie",)),
        Env("chart", ("matplotlib",), ("matplotlib",)),
    )
}


def log(msg: str) -> None:
    print(f"[envs] {msg}", file=sys.stderr, flush=True)


def _pip(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(env.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _install_pycurl(env: Env) -> None:
    """pycurl: a binary wheel when PyPI has one for this platform, else a build against system libcurl."""
    if _pip(env, "--only-binary=pycurl", "pycurl").returncode == 0:
        return
    log("no pycurl wheel for this platform; building it from source")
    if shutil.which("curl-config") is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            apt = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"]
            subprocess.run(["apt-get", "update", "-qq"], check=False)
            subprocess.run([*apt, "libcurl4-openssl-dev", "libssl-dev", "gcc"], check=True)
        else:
            raise RuntimeError("pycurl needs: apt-get install libcurl4-openssl-dev libssl-dev")
    result = _pip(env, "pycurl")
    if result.returncode != 0:
        raise RuntimeError(f"pip install pycurl failed:\n{result.stderr[-2000:]}")


def _versions(env: Env) -> dict[str, str]:
    code = (
        "import json, sys, importlib.metadata as m\n"
        "out = {}\n"
        "for d in sys.argv[1:]:\n"
        "    try: out[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: pass\n"
        "if 'pycurl' in out:\n"
        "    import pycurl; out['libcurl'] = pycurl.version.split()[1].split('/')[1]\n"
        "print(json.dumps(out))\n"
    )
    cmd = [str(env.python), "-c", code, *env.dists]
    return dict(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout))


def ensure(name: str) -> Env:
    """Create and fill the venv `name` unless an up-to-date one exists; return it."""
    env = ENV_SPECS[name]
    if env.stamp.exists():
        stamp = json.loads(env.stamp.read_text())
        if stamp.get("requirements") == list(env.requirements) and env.python.exists():
            return env
    log(f"creating {env.path} and installing {' '.join(env.requirements)} (first run only)")
    shutil.rmtree(env.path, ignore_errors=True)
    subprocess.run([str(PROJECT_PYTHON), "-m", "venv", str(env.path)], check=True)
    if name == "pycurl":
        _install_pycurl(env)
    else:
        result = _pip(env, *env.requirements)
        if result.returncode != 0:
            raise RuntimeError(f"pip install {' '.join(env.requirements)} failed:\n{result.stderr[-2000:]}")
    env.stamp.write_text(json.dumps({"requirements": list(env.requirements)}))
    return env


def versions(name: str) -> dict[str, str]:
    """Versions of the distributions installed in venv `name` (after ensure())."""
    return _versions(ENV_SPECS[name])


def env_python(name: str) -> Path:
    """The interpreter of venv `name` ("project" is the project venv, where brisk is installed)."""
    return PROJECT_PYTHON if name == "project" else ensure(name).python
