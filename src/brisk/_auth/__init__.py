"""Authentication schemes and where credentials come from: ``basic.py`` (``AuthBase``, Basic, bearer),
``digest.py`` (Digest, a challenge flow), ``netrc.py`` (``~/.netrc``).

``brisk.auth`` is the public face: it re-exports the classes, whose ``__module__`` names it.
"""
