"""The asyncio driver: protocols on an event loop (see ``brisk._transport``)."""
