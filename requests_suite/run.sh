#!/bin/sh
# requests' own test suite against brisk: `make requests-suite` (a few minutes the first time; not in CI).
#
# Downloads the requests source release named below, makes a separate environment (requests_suite/.env)
# with brisk and what requests' tests import, aliases `requests` to brisk (alias.py) and runs the test files
# one after the other. README ("Coming from requests") quotes the figures of test_requests.py.
set -eu
VERSION=2.32.3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
WORK=$HERE/.env
PYTHON=${PYTHON:-python3}
mkdir -p "$WORK"
if [ ! -x "$WORK/venv/bin/python" ]; then
    "$PYTHON" -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install --quiet -e "$ROOT[socks,server]" "pytest>=7,<9" pytest-httpbin==2.0.0 \
        "httpbin~=0.10.0" trustme pytest-timeout urllib3
fi
if [ ! -d "$WORK/requests-$VERSION" ]; then
    "$WORK/venv/bin/pip" download --quiet --no-binary :all: --no-deps "requests==$VERSION" -d "$WORK"
    tar -xzf "$WORK/requests-$VERSION.tar.gz" -C "$WORK"
fi
SITE=$("$WORK/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp "$HERE/alias.py" "$SITE/brisk_requests_alias.py"
echo "import brisk_requests_alias" > "$SITE/zz_brisk_requests_alias.pth"
# No test may reach past loopback (requests' suite has a few that resolve or connect to outside hosts, such
# as its timeout tests' unroutable 10.255.255.1): the ecosystem harness's guard refuses them and logs each.
cp "$ROOT/ecosystem/offline.py" "$SITE/brisk_ecosystem_offline.py"
echo "import brisk_ecosystem_offline" > "$SITE/00_brisk_ecosystem_offline.pth"
export BRISK_ECOSYSTEM_OFFLINE="$WORK/network.log"
: > "$BRISK_ECOSYSTEM_OFFLINE"
cd "$WORK/requests-$VERSION"
export REQUESTS_SOURCE="$WORK/requests-$VERSION/src"
for name in test_requests test_structures test_hooks test_lowlevel test_utils; do
    "$WORK/venv/bin/python" -m pytest -p no:cacheprovider --timeout 20 -q -rf --tb=line \
        "tests/$name.py" > "$WORK/$name.txt" 2>&1 || true
    echo "$name: $(tail -n 1 "$WORK/$name.txt")   (details: requests_suite/.env/$name.txt)"
done
if [ -s "$BRISK_ECOSYSTEM_OFFLINE" ]; then
    echo "refused as outside loopback (these tests fail with requests too): $(cut -f1 "$BRISK_ECOSYSTEM_OFFLINE" | sort -u | tr '\n' ' ')"
fi
