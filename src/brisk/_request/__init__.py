"""The request side of the models: how a ``PreparedRequest`` is made (``prepare``), its body from ``data=``,
``json=`` and ``files=`` (``body``, ``multipart``), and the headers every session starts with (``defaults``).
"""
