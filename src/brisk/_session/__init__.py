"""What a session adds around the flows: its settings (declared once, ``settings``), the typed request
options (``types``, for type checkers; ``options``), the shared calling side (``calls``, ``base``), the
environment, rate limits, downloads, and requests' redirect-mixin methods.
"""
