"""``python -m brisk.cli``: the same as the ``brisk`` command."""

import sys

from brisk.cli import main

sys.exit(main())
