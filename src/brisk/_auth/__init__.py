"""Authentication schemes and where credentials come from (``~/.netrc``).

``brisk.auth`` is the public face.
"""
