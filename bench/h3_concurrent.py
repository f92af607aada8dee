"""HTTP/3: 100 concurrent small GETs over one QUIC connection, brisk vs niquests (issue #24).

Two servers, each clients' run against both in turn:
- ``caddy``: Caddy (Go, compiled, HTTP/3 on by default) serving static files on loopback, as nginx serves
  the rest of the suite (Debian's nginx has no HTTP/3). Installed with apt-get when missing (root only),
  else skipped with a message. With a compiled server the clients' own work decides the figures.
- ``aioquic``: a minimal HTTP/3 responder on aioquic (``--serve``), in a process of its own. It is Python,
  so on a small machine it takes a core's worth of time and its speed caps every client's figure: read
  the ratio with that in mind.

Both answer ``/small.json`` with the same 148-byte body. Each client runs in its own process and venv
(niquests in ``bench/.envs/niquests``), in turn, ``--repeat`` times; the figure is the median req/s, with
the client's CPU time per request (the timed rounds, its whole process) and the server's next to it.

    .venv/bin/python bench/h3_concurrent.py --repeat 3 --rounds 20 --download-mb 100

What runs:
- brisk: ``AsyncSession(http3="prior-knowledge")``, ``asyncio.gather`` of 100 GETs per round (they share one
  connection: the pool opens one QUIC connection per origin and multiplexes on it).
- brisk-sync: ``Session(http3="prior-knowledge")`` with 100 threads (``ThreadPoolExecutor``) per round.
- niquests: ``AsyncSession(multiplexed=True)`` with the origin put in its QUIC cache (so it speaks HTTP/3
  from the first request), 100 lazy GETs gathered per round.
- ``--download-mb N``: one GET of N MB read whole by brisk's ``Session`` over HTTP/3 (MB/s), and from Caddy
  the same file over HTTP/2 (TCP) next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
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
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            await asyncio.gather(*[one() for _ in range(100)])
        print(rounds * 100 / (time.perf_counter() - start), (time.process_time() - cpu) / rounds / 100 * 1e6)
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
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        list(pool.map(one, range(100)))
    print(rounds * 100 / (time.perf_counter() - start), (time.process_time() - cpu) / rounds / 100 * 1e6)
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
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            await burst()
        print(rounds * 100 / (time.perf_counter() - start), (time.process_time() - cpu) / rounds / 100 * 1e6)
asyncio.run(main())
"""


DOWNLOAD = """
import sys, time, brisk
url, ca, size, http3 = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "h3"
with brisk.Session(http3="prior-knowledge" if http3 else False, verify=ca) as s:
    s.get("/".join(url.split("/", 3)[:3]) + "/small.json")  # the connection, made before the timing
    start, cpu = time.perf_counter(), time.process_time()
    r = s.get(url)
    assert r.http_version == ("HTTP/3" if http3 else "HTTP/2") and len(r.content) == size, r.http_version
    print(size / 1e6 / (time.perf_counter() - start), (time.process_time() - cpu) * 1e3 / (size / 1e8))
"""


def _server_cpu(pid: int) -> float:
    """Seconds of CPU time the process ``pid`` has used (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(python: Path, code: str, *args: object) -> tuple[float, float] | None:
    """Run one client; its two figures (a rate and a CPU time), or None when it failed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")} if python == Path(sys.executable) else None
    result = subprocess.run(
        [str(python), "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        print(f"  failed: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    rate, cpu = result.stdout.strip().splitlines()[-1].split()
    return float(rate), float(cpu)


@dataclass
class Row:
    rates: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    server_cpus: list[float] = field(default_factory=list)


def _measure(url: str, ca: str, server_pid: int, rounds: int, repeat: int) -> dict[str, Row]:
    from envs import env_python

    clients = {
        "brisk": (Path(sys.executable), BRISK_ASYNC),
        "brisk-sync": (Path(sys.executable), BRISK_SYNC),
        "niquests": (env_python("niquests"), NIQUESTS),
    }
    rows = {name: Row() for name in clients}
    for _ in range(repeat):
        for name, (python, code) in clients.items():
            before = _server_cpu(server_pid)
            figures = _run(python, code, url, ca, rounds)
            if figures is not None:
                rows[name].rates.append(figures[0])
                rows[name].cpus.append(figures[1])
                # the warm-up round included: (rounds + 1) x 100 requests
                rows[name].server_cpus.append((_server_cpu(server_pid) - before) / (rounds + 1) / 100 * 1e6)
    return rows


def _report(server: str, rows: dict[str, Row], repeat: int) -> None:
    print(
        f"h3_concurrent, {server}: {CONCURRENCY} concurrent GETs over one HTTP/3 connection "
        f"(median of {repeat})"
    )
    print(f"  {'client':<12}{'req/s':>10}{'min':>9}{'max':>9}   CPU per request: client, server")
    medians = {}
    for name, row in rows.items():
        if not row.rates:
            continue
        medians[name] = statistics.median(row.rates)
        print(
            f"  {name:<12}{medians[name]:10,.0f}{min(row.rates):9,.0f}{max(row.rates):9,.0f}"
            f"   {statistics.median(row.cpus):6.0f} us, {statistics.median(row.server_cpus):6.0f} us"
        )
    if "brisk" in medians and "niquests" in medians:
        print(f"  brisk vs niquests: {medians['brisk'] / medians['niquests']:.2f}x")


def _download(label: str, url: str, ca: str, size: int, protocol: str) -> None:
    figures = _run(Path(sys.executable), DOWNLOAD, url, ca, size, protocol)
    if figures is not None:
        name = "HTTP/3" if protocol == "h3" else "HTTP/2"
        print(
            f"h3_download, {label}: one {size // 1_000_000} MB GET over {name} (brisk Session): "
            f"{figures[0]:.1f} MB/s, {figures[1]:.0f} ms CPU per 100 MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--rounds", type=int, default=20, help="rounds of 100 concurrent GETs per measurement"
    )
    parser.add_argument("--download-mb", type=int, default=0, help="also time one download of this size")
    parser.add_argument("--servers", default="caddy,aioquic", help="comma-separated: caddy, aioquic")
    parser.add_argument("--serve", nargs=2, metavar=("CERT", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    sys.path.insert(0, str(BENCH))
    import trustme

    import caddy

    servers = args.servers.split(",")
    size = args.download_mb * 1_000_000
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    with tempfile.TemporaryDirectory(prefix="brisk-h3-bench-") as tmp:
        ca_file, cert, key = (str(Path(tmp) / name) for name in ("ca.pem", "cert.pem", "key.pem"))
        ca.cert_pem.write_to_path(ca_file)
        leaf.cert_chain_pems[0].write_to_path(cert)
        leaf.private_key_pem.write_to_path(key)
        www = Path(tmp) / "www"
        www.mkdir()
        (www / "small.json").write_bytes(BODY)
        if size:
            with (www / "download").open("wb") as file:
                file.truncate(size)  # zeros, as the aioquic responder sends
        if "caddy" in servers:
            with caddy.running(www, cert, key) as server:
                if server is not None:
                    label = f"Caddy {server.version}"
                    rows = _measure(server.url("/small.json"), ca_file, server.pid, args.rounds, args.repeat)
                    _report(label, rows, args.repeat)
                    if size:
                        for protocol in ("h3", "h2"):
                            _download(label, server.url("/download"), ca_file, size, protocol)
        if "aioquic" in servers:
            process = subprocess.Popen(
                [sys.executable, __file__, "--serve", cert, key], stdout=subprocess.PIPE, text=True
            )
            try:
                assert process.stdout is not None
                base = f"https://127.0.0.1:{int(process.stdout.readline())}"
                rows = _measure(base + "/small.json", ca_file, process.pid, args.rounds, args.repeat)
                _report("aioquic responder", rows, args.repeat)
                if size:
                    _download("aioquic responder", f"{base}/download/{size}", ca_file, size, "h3")
            finally:
                process.terminate()
                process.wait(10)


if __name__ == "__main__":
    main()
