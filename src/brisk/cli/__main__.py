"""``python -m brisk.cli``: the same as the ``brisk`` command."""

from brisk.cli import console

console()
