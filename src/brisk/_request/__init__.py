"""Request bodies: ``data=``, ``json=`` and ``files=`` turned into what goes on the wire."""
