"""brisk: a fast HTTP client (placeholder until the public API lands)."""
from .__version__ import __version__

__all__ = ["__version__"]
