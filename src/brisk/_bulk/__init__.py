"""Bulk fetching: many requests from one iterable, streamed, with bounded memory.

- ``engine``: the async core. Workers take items lazily from the caller's iterable and hand results back as
  they complete (or in input order through a bounded window); nothing grows with the number of items.
- ``sync``: the same engine for sync code, on an event loop in a thread the session keeps (``Session.imap``,
  and ``Session.map`` on top of it).
- ``job``: a resumable run that appends one JSON line per result to a file and skips what an earlier run
  finished (``brisk.bulk``); ``meter`` draws its progress bar.
- ``dask``: the same job sharded over a Dask cluster (``brisk.bulk_on_dask``).
"""
