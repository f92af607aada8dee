"""brisk's HTTP cache (RFC 9111, a private client cache): ``policy`` decides (sans-IO), ``store`` keeps
entries in memory or SQLite, ``tee`` stores a body as it is read; ``brisk._flows.cache`` runs it all
around the send."""
