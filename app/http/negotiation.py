"""Content negotiation shared by error pages and views that serve both people and machines."""

from flask import request

JSON_TYPES = ("application/json", "application/problem+json")


def wants_json() -> bool:
    """True when the client should get JSON rather than an HTML page.

    The API and machine endpoints always answer JSON; elsewhere the Accept header decides,
    honouring q-weights (a browser's ``*/*;q=0.8`` must not win over its ``text/html``).
    """
    path = request.path
    if path.startswith(("/api/", "/epcis/", "/log/")) or path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", *JSON_TYPES])
    return best in JSON_TYPES
