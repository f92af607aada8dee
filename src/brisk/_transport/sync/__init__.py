"""The sync driver: blocking sockets (see ``brisk._transport``)."""
