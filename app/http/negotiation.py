"""Content negotiation shared by error pages and views that serve both people and machines."""

import re

from flask import request

JSON_TYPES = ("application/json", "application/problem+json")

# Addresses that only machines read: the API, EPCIS, the transparency log, and the documents a
# verifier downloads (DID documents and status lists under /orgs/, signed credentials, the
# JSON-LD contexts, /.well-known/ descriptions). Their errors are problem+json for every client,
# whatever it accepts: a verifier that sends ``Accept: */*`` must not get an HTML page.
MACHINE_PREFIXES = ("/api/", "/epcis/", "/log/", "/orgs/", "/contexts/", "/.well-known/")
MACHINE_PATHS = frozenset({"/log", "/healthz", "/livez"})
# Only the credential's own address: a Digital Link lot may well end in ".json" and is read by
# people scanning a label.
MACHINE_DOCUMENT = re.compile(r"/certificates/[^/]+/credential\.json")


def is_machine_path(path: str) -> bool:
    return (
        path in MACHINE_PATHS
        or path.startswith(MACHINE_PREFIXES)
        or MACHINE_DOCUMENT.fullmatch(path) is not None
    )


def wants_json() -> bool:
    """True when the client should get JSON rather than an HTML page.

    Machine addresses (above) always answer JSON; elsewhere the Accept header decides,
    honouring q-weights (a browser's ``*/*;q=0.8`` must not win over its ``text/html``).
    """
    if is_machine_path(request.path):
        return True
    best = request.accept_mimetypes.best_match(["text/html", *JSON_TYPES])
    return best in JSON_TYPES
