"""What a session adds around the flows: environment and proxy choice, rate limits, downloads,
and requests' redirect-mixin methods.
"""
