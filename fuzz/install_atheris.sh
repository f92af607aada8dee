#!/bin/sh
# Install atheris into the Python given as $1 (the project venv's), for `make fuzz`.
#
# 1. A prebuilt wheel needs nothing else: PyPI has manylinux wheels for x86_64 CPython (3.11 included).
#    ATHERIS_FROM_SOURCE=1 skips it.
# 2. Otherwise pip builds atheris from source, which needs clang, libFuzzer's runtime archive and the Python
#    headers. On Debian these are the packages `clang`, `libclang-rt-<N>-dev` (N = clang's major version;
#    before Debian 12 the archive came with libclang-common-<N>-dev, which clang pulls in) and, for the
#    system Python, `python3-dev`. Missing ones are installed with apt-get when running as root; otherwise
#    this script stops with the list to install.
set -eu

PY=${1:?usage: install_atheris.sh PYTHON}

if "$PY" -c 'import atheris' 2>/dev/null; then
    exit 0
fi
echo "installing atheris into $PY"
if [ -z "${ATHERIS_FROM_SOURCE:-}" ] && "$PY" -m pip install --quiet --only-binary=:all: 'atheris>=2.3'; then
    exit 0
fi
echo "no prebuilt atheris wheel for this Python and platform (or ATHERIS_FROM_SOURCE set): building from source"

has_libfuzzer() {
    command -v clang >/dev/null 2>&1 || return 1
    [ -n "$(find "$(clang -print-resource-dir)" -name 'libclang_rt.fuzzer_no_main*' 2>/dev/null | head -n 1)" ]
}
has_headers() {
    "$PY" -c 'import os, sysconfig; raise SystemExit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))'
}

missing=""
command -v clang >/dev/null 2>&1 || missing="clang"
has_headers || missing="$missing python3-dev"
if [ -n "$missing" ] || ! has_libfuzzer; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        [ -z "$missing" ] || apt-get install -y -qq $missing
        if ! has_libfuzzer; then
            major=$(clang -dumpversion | cut -d. -f1)
            apt-get install -y -qq "libclang-rt-$major-dev" || apt-get install -y -qq "libclang-common-$major-dev"
        fi
    fi
fi
if ! has_libfuzzer || ! has_headers; then
    echo "error: building atheris needs clang, libFuzzer and the Python headers." >&2
    echo "On Debian/Ubuntu, as root: apt-get install clang libclang-rt-<N>-dev python3-dev" >&2
    echo "(N = the major version printed by 'clang -dumpversion'), then run 'make fuzz' again." >&2
    exit 1
fi
CLANG_BIN=$(command -v clang) "$PY" -m pip install --quiet --no-binary atheris 'atheris>=2.3'
