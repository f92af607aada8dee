"""Debug logging under the ``brisk`` logger, free when nobody listens.

If the program never imported ``logging`` no handler can exist, so brisk does not import it either (it
costs milliseconds at start-up); otherwise the ``brisk`` logger is used when it is enabled for DEBUG.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["debug_logger"]


_logger: Any = None


def debug_logger() -> Any:
    """The ``brisk`` logger if it would emit DEBUG records, else None."""
    global _logger
    log = _logger
    if log is None:
        logging = sys.modules.get("logging")
        if logging is None:
            return None
        log = _logger = logging.getLogger("brisk")
    return log if log.isEnabledFor(10) else None  # 10: logging.DEBUG
