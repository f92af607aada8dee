"""``brisk bulk URLS -o results.jsonl``: fetch every URL of a file, resumably (``brisk.bulk``).

Each line of the input is a URL, or a method and a URL (``POST https://...``); blank lines and lines
starting with ``#`` are skipped. An item's index is its position among the URL lines.
A JSON line per result is appended to the output; running the same command again fetches only what is
left (``--no-resume`` starts over). A progress bar is drawn on a terminal; Ctrl-C stops cleanly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["bulk_command", "read_items"]

DESCRIPTION = """\
Fetch every URL listed in a file (one per line, or 'METHOD URL'; '-' reads standard input) and append a
JSON line per result to the output file: status, headers, timing, body path or error. Run the same command
again to fetch only what is left (failed items are tried again).

  brisk bulk urls.txt -o results.jsonl --concurrency 200 --per-host 8
  brisk bulk urls.txt -o results.jsonl --save-to bodies/ --timeout 10 --retries 2

exit status: 0 every item answered (any HTTP status), 1 some items failed, 2 usage error, 130 Ctrl-C"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        from brisk.cli._args import UsageError

        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="brisk bulk", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )  # fmt: skip
    p.add_argument("input", help="file of URLs ('-': standard input)")
    p.add_argument("-o", "--output", required=True, help="JSON-lines file the results are appended to")
    p.add_argument("--concurrency", type=int, default=100, help="requests at once (100)")
    p.add_argument("--per-host", type=int, default=None, help="requests at once per scheme://host:port")
    p.add_argument("--rate", type=float, default=None, help="requests per second per host")
    p.add_argument("--timeout", type=float, default=None, help="seconds for each phase of a request")
    p.add_argument("--deadline", type=float, default=None, help="seconds for each item, retries included")
    p.add_argument("--retries", type=int, default=None, help="retries of a failed request (brisk's default)")
    p.add_argument("--save-to", default=None, help="directory to write each body to (<index>.body)")
    p.add_argument("-H", "--header", action="append", default=[], help="'Name: value' for every request")
    p.add_argument("--no-resume", action="store_true", help="start over: truncate the output first")
    p.add_argument("--no-http2", action="store_true", help="HTTP/1.1 only")
    p.add_argument("--verify", default=None, help="CA bundle to verify servers with")
    p.add_argument("--progress", choices=("auto", "bar", "lines", "none"), default="auto", help="(auto)")
    return p


def read_items(lines: Any) -> Iterator[Any]:
    """The items of a URL file, read lazily: a URL, or ``(METHOD, URL)``; blank and comment lines skipped."""
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        first, _, rest = line.partition(" ")
        rest = rest.strip()
        yield (first.upper(), rest) if rest and first.isalpha() else line


def bulk_command(argv: list[str]) -> int:
    """Run ``brisk bulk`` with ``argv``; return the exit status."""
    from brisk.cli._args import EXIT_CODES, UsageError
    from brisk.cli._command import error_line

    try:
        args = _parser().parse_args(argv)
        if args.concurrency < 1 or (args.per_host is not None and args.per_host < 1):
            raise UsageError("--concurrency and --per-host must be at least 1")
        headers = dict(_header(value) for value in args.header)
    except UsageError as exc:
        error_line(f"{exc} (see 'brisk bulk --help')")
        return EXIT_CODES["usage"]
    import brisk

    settings: dict[str, Any] = {"headers": headers, "http2": not args.no_http2}
    if args.rate:
        settings["rate_limit"] = args.rate
    if args.retries is not None:
        settings["retries"] = args.retries
    if args.verify:
        settings["verify"] = args.verify
    if args.timeout is not None or args.deadline is not None:
        settings["timeout"] = brisk.exceptions.Timeout(args.timeout, total=args.deadline)
    bar = _progress(args.progress)
    last: list[Any] = []

    def progress(state: Any) -> None:  # the bar, and the counts for the message on Ctrl-C
        last[:] = [state]
        if bar is not None:
            bar(state)

    try:
        source = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        error_line(f"cannot read {args.input}: {exc.strerror or exc}")
        return EXIT_CODES["error"]
    with source, brisk.Session(**settings) as session:
        try:
            summary = brisk.bulk(
                read_items(source), args.output, session=session, resume=not args.no_resume,
                concurrency=args.concurrency, per_host=args.per_host, save_to=args.save_to,
                on_progress=progress,
            )  # fmt: skip
        except KeyboardInterrupt:
            done = (
                f"{last[0].done} fetched ({last[0].errors} failed) before the interruption; " if last else ""
            )
            sys.stderr.write(f"\ninterrupted: {done}what finished is in {args.output}; run again to resume\n")
            return 130
        except OSError as exc:
            error_line(f"cannot write {args.output}: {exc.strerror or exc}")
            return EXIT_CODES["error"]
    sys.stderr.write(
        f"{summary.done} fetched ({summary.errors} failed, {summary.failed_status} with status >= 400), "
        f"{summary.skipped} done before, in {summary.elapsed:.1f} s -> {summary.output}\n"
    )
    return 1 if summary.errors else 0


def _header(value: str) -> tuple[str, str]:
    from brisk.cli._args import UsageError

    name, sep, text = value.partition(":")
    if not sep or not name.strip():
        raise UsageError(f"-H wants 'Name: value', got {value!r}")
    return name.strip(), text.strip()


def _progress(mode: str) -> Any:
    from brisk._bulk.meter import BulkBar

    if mode == "none":
        return None
    if mode == "auto":
        return BulkBar("bulk")
    return BulkBar("bulk", use_rich=mode == "bar" and sys.stderr.isatty())
