"""The bottom layer: configuration values, the URL and header models, form encoding, logging.

Nothing here does I/O or imports another brisk package; every other layer may import it.
"""
