"""requests and urllib3 as other code expects them: module names, helpers, a urllib3 stand-in,
sending through a foreign urllib3 pool, and ``install_as_requests``.
"""
