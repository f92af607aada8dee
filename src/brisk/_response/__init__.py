"""Response bodies: decoding, charset and line rules, server-sent events, and urllib3's ``response.raw``."""
