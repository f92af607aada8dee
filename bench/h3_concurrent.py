"""HTTP/3: 100 concurrent small GETs over one QUIC connection, brisk vs niquests (issue #24).

nginx (the suite's server) has no HTTP/3 here, so this workload has its own server: a minimal HTTP/3
responder on aioquic (``--serve``), in a process of its own, answering every request with the same 148-byte
JSON body. It is Python too, so on a small machine it can be the bottleneck: read the ratio, not the
absolute figures. Each client runs in its own process and venv (niquests in ``bench/.envs/niquests``), in
turn, ``--repeat`` times; the figure is the median req/s.

    .venv/bin/python bench/h3_concurrent.py --repeat 3 --rounds 20 --download-mb 100

What runs:
- brisk: ``AsyncSession(http3="prior-knowledge")``, ``asyncio.gather`` of 100 GETs per round (they share one
  connection: the pool opens one QUIC connection per origin and multiplexes on it).
- brisk-sync: ``Session(http3="prior-knowledge")`` with 100 threads (``ThreadPoolExecutor``) per round.
- ``--download-mb N``: one GET of N MB read whole by brisk's ``Session`` over HTTP/3 (MB/s), to set next to
  the suite's ``content_100mb`` (HTTP/1.1 and HTTP/2 against nginx).
- niquests: ``AsyncSession(multiplexed=True)`` with the origin put in its QUIC cache (so it speaks HTTP/3
  from the first request), 100 lazy GETs gathered per round.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BODY = b'{"ok": true, "padding": "' + b"x" * 121 + b'"}'  # 148 bytes, as the suite's /small.json
CONCURRENCY = 100

# -- the server ------------------------------------------------------------------------------------------


def serve(cert: str, key: str) -> None:
    from aioquic.asyncio import QuicConnectionProtocol
    from aioquic.asyncio import serve as quic_serve
    from aioquic.h3.connection import H3_ALPN, H3Connection
    from aioquic.h3.events import HeadersReceived
    from aioquic.quic.configuration import QuicConfiguration

    class Responder(QuicConnectionProtocol):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self.h3 = H3Connection(self._quic)

        def quic_event_received(self, event: object) -> None:
            for h3_event in self.h3.handle_event(event):  # type: ignore[arg-type]
                if isinstance(h3_event, HeadersReceived) and h3_event.stream_ended:
                    path = dict(h3_event.headers).get(b":path", b"")
                    body = BODY
                    if path.startswith(b"/download/"):
                        body = bytes(int(path.rsplit(b"/", 1)[1]))
                    head = [(b":status", b"200"), (b"content-type", b"application/json")]
                    self.h3.send_headers(h3_event.stream_id, [*head, (b"content-length", b"%d" % len(body))])
                    self.h3.send_data(h3_event.stream_id, body, end_stream=True)
            self.transmit()

    configuration = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN, max_datagram_frame_size=None)
    configuration.load_cert_chain(cert, key)

    async def main() -> None:
        server = await quic_serve("127.0.0.1", 0, configuration=configuration, create_protocol=Responder)
        print(server._transport.get_extra_info("sockname")[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the clients ----------------------------------------------------------------------------------------

BRISK_ASYNC = """
import asyncio, sys, time, brisk
url, ca, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
async def main():
    async with brisk.AsyncSession(http3="prior-knowledge", verify=ca) as s:
        async def one():
            r = await s.get(url)
            assert r.http_version == "HTTP/3" and len(r.content) == 148, r
        await asyncio.gather(*[one() for _ in range(100)])  # warm-up: the connection
        start = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*[one() for _ in range(100)])
        print(rounds * 100 / (time.perf_counter() - start))
asyncio.run(main())
"""

BRISK_SYNC = """
import sys, time, brisk
from concurrent.futures import ThreadPoolExecutor
url, ca, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
with brisk.Session(http3="prior-knowledge", verify=ca) as s, ThreadPoolExecutor(100) as pool:
    def one(_):
        r = s.get(url)
        assert r.http_version == "HTTP/3" and len(r.content) == 148, r
    list(pool.map(one, range(100)))
    start = time.perf_counter()
    for _ in range(rounds):
        list(pool.map(one, range(100)))
    print(rounds * 100 / (time.perf_counter() - start))
"""

NIQUESTS = """
import asyncio, sys, time, niquests
url, ca, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
port = int(url.rsplit(":", 1)[1].split("/")[0])
async def main():
    async with niquests.AsyncSession(multiplexed=True) as s:
        s.quic_cache_layer.add_domain("127.0.0.1", port, port)
        async def burst():
            responses = [await s.get(url, verify=ca) for _ in range(100)]
            await s.gather()
            for r in responses:
                assert r.http_version == 30 and len(r.content) == 148, (r, r.http_version)
        await burst()
        start = time.perf_counter()
        for _ in range(rounds):
            await burst()
        print(rounds * 100 / (time.perf_counter() - start))
asyncio.run(main())
"""


DOWNLOAD = """
import sys, time, brisk
url, ca, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
with brisk.Session(http3="prior-knowledge", verify=ca) as s:
    s.get(url.rsplit("/", 1)[0] + "/small.json")
    start = time.perf_counter()
    r = s.get(url.rsplit("/", 1)[0] + f"/download/{size}")
    assert r.http_version == "HTTP/3" and len(r.content) == size
    print(size / 1e6 / (time.perf_counter() - start))
"""


def _run(python: Path, code: str, url: str, ca: str, rounds: int) -> float | None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")} if python == Path(sys.executable) else None
    result = subprocess.run(
        [str(python), "-c", code, url, ca, str(rounds)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        print(f"  failed: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--rounds", type=int, default=20, help="rounds of 100 concurrent GETs per measurement"
    )
    parser.add_argument("--download-mb", type=int, default=0, help="also time one download of this size")
    parser.add_argument("--serve", nargs=2, metavar=("CERT", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    sys.path.insert(0, str(BENCH))
    import trustme

    from envs import env_python

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    with tempfile.TemporaryDirectory(prefix="brisk-h3-bench-") as tmp:
        ca_file, cert, key = (str(Path(tmp) / name) for name in ("ca.pem", "cert.pem", "key.pem"))
        ca.cert_pem.write_to_path(ca_file)
        leaf.cert_chain_pems[0].write_to_path(cert)
        leaf.private_key_pem.write_to_path(key)
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", cert, key], stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            url = f"https://127.0.0.1:{int(server.stdout.readline())}/small.json"
            clients = {
                "brisk": (Path(sys.executable), BRISK_ASYNC),
                "brisk-sync": (Path(sys.executable), BRISK_SYNC),
                "niquests": (env_python("niquests"), NIQUESTS),
            }
            figures: dict[str, list[float]] = {name: [] for name in clients}
            for _ in range(args.repeat):
                for name, (python, code) in clients.items():
                    figure = _run(python, code, url, ca_file, args.rounds)
                    if figure is not None:
                        figures[name].append(figure)
            download = (
                _run(Path(sys.executable), DOWNLOAD, url, ca_file, args.download_mb * 1_000_000)
                if args.download_mb
                else None
            )
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"h3_concurrent: {CONCURRENCY} concurrent GETs over one HTTP/3 connection, req/s "
        f"(median of {args.repeat})"
    )
    medians = {name: statistics.median(values) for name, values in figures.items() if values}
    for name, median in medians.items():
        print(f"  {name:<12}{median:10.0f}   (min {min(figures[name]):.0f}, max {max(figures[name]):.0f})")
    if "brisk" in medians and "niquests" in medians:
        print(f"  brisk vs niquests: {medians['brisk'] / medians['niquests']:.2f}x")
    if download is not None:
        print(f"h3_download: one {args.download_mb} MB GET over HTTP/3 (brisk Session): {download:.1f} MB/s")


if __name__ == "__main__":
    main()
