"""Who is on the other end of a request."""

from flask import request


def client_address() -> str:
    """The client's IP address (``ProxyFix`` has already applied trusted proxy headers)."""
    return request.remote_addr or "unknown"
