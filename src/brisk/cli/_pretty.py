"""Colour for the terminal, through rich (the ``cli`` extra). Imported only when colour is on."""

from __future__ import annotations

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.text import Text

__all__ = ["colour_head", "colour_json", "colour_note"]

_console = Console(force_terminal=True, soft_wrap=True, highlight=False, markup=False, emoji=False)
_json = JSONHighlighter()


def _render(text: Text) -> str:
    with _console.capture() as captured:
        _console.print(text, end="")
    return captured.get()


def _status_style(status: int) -> str:
    if status < 300:
        return "bold green"
    if status < 400:
        return "bold yellow"
    return "bold red"


def colour_head(start_line: str, headers: list[tuple[str, str]], status: int | None) -> str:
    """A request or response head: the first line coloured by kind (or status class), then the headers."""
    text = Text()
    if status is None:  # request line: METHOD target version
        method, _, rest = start_line.partition(" ")
        target, _, version = rest.rpartition(" ")
        text.append(method, "bold cyan")
        text.append(" ")
        text.append(target, "underline")
        text.append(" ")
        text.append(version, "dim")
    else:  # status line: version status reason
        version, _, rest = start_line.partition(" ")
        text.append(version, "dim")
        text.append(" ")
        text.append(rest, _status_style(status))
    text.append("\n")
    for name, value in headers:
        text.append(name, "cyan")
        text.append(": ", "dim")
        text.append(value)
        text.append("\n")
    return _render(text)


def colour_json(formatted: str) -> str:
    """Indented JSON with keys, strings, numbers and literals in their own colours."""
    text = Text(formatted)
    _json.highlight(text)
    return _render(text)


def colour_note(note: str) -> str:
    return _render(Text(note, "dim italic"))
