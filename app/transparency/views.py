"""The transparency log's public read API (anyone may read and check the log).

Static-style resources follow c2sp.org/tlog-checkpoint and c2sp.org/tlog-tiles, so generic
tlog clients work; the JSON endpoints add entries and proofs for simpler clients.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import Blueprint, Response, current_app

from app.auth.principal import PUBLIC
from app.extensions import db
from app.http.api import file_answers, route
from app.transparency import services
from app.transparency.schemas import (
    ConsistencyProofOut,
    ConsistencyQuery,
    InclusionProofOut,
    InclusionQuery,
    LogEntryOut,
    LogSummaryOut,
)

bp = Blueprint("transparency", __name__, url_prefix="/log")

AREA = "log"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=10"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


@route(bp, "", access=PUBLIC, response=LogSummaryOut, area=AREA)
def summary() -> object:
    """The log: origin, verifier key and latest signed checkpoint."""
    found = services.log_summary(db.session)
    base = current_app.config["BASE_URL"]
    return {
        "origin": found.origin,
        "vkey": found.vkey,
        "tree_size": found.tree_size,
        "root_hash": _b64(found.root_hash),
        "checkpoint": found.checkpoint,
        "checkpoint_at": found.checkpoint_at,
        "checkpoint_url": f"{base}/log/checkpoint",
        "tiles_url": f"{base}/log/tile/",
    }, {"Cache-Control": "no-cache"}


def _text(body: str, cache_control: str) -> Response:
    response = current_app.response_class(body, mimetype="text/plain")
    response.headers["Cache-Control"] = cache_control
    return response


@route(
    bp,
    "/checkpoint",
    access=PUBLIC,
    area=AREA,
    responses={200: "The latest checkpoint as a C2SP signed note (text/plain)"},
    also_answers=file_answers("text/plain"),
)
def checkpoint() -> Response:
    """The latest signed checkpoint (c2sp.org/tlog-checkpoint), as stored before serving."""
    return _text(services.current_checkpoint(db.session).note, "no-cache")


@route(
    bp,
    "/vkey",
    access=PUBLIC,
    area=AREA,
    responses={200: "The log's verifier key in C2SP vkey form (text/plain)"},
    also_answers=file_answers("text/plain"),
)
def vkey() -> Response:
    """The log's verifier key (C2SP vkey form): pin it to check checkpoints."""
    return _text(services.current_vkey(db.session) + "\n", "public, max-age=3600")


@route(
    bp,
    "/tile/<path:tile>",
    access=PUBLIC,
    area=AREA,
    responses={200: "Tile or entry bundle bytes (application/octet-stream)"},
    also_answers=file_answers("application/octet-stream"),
)
def tile(tile: str) -> Response:
    """A Merkle hash tile or entry bundle (c2sp.org/tlog-tiles): ``<L>/<N>[.p/<W>]`` or
    ``entries/<N>[.p/<W>]``; full tiles never change and may be cached forever."""
    body = services.read_tile(db.session, f"tile/{tile}")
    response = current_app.response_class(body.data, mimetype="application/octet-stream")
    response.headers["Cache-Control"] = IMMUTABLE if body.is_full else SHORT
    return response


# A position, not a row id (the app's ``int`` stops at the largest id): any index past the
# log's end gets the log's own answer, which names the entries there are.
@route(bp, "/entries/<int(max=None):index>", access=PUBLIC, response=LogEntryOut, area=AREA)
def entry(index: int) -> tuple[dict[str, Any], dict[str, str]]:
    """One log entry: the canonical entry and its leaf hash."""
    found = services.get_entry(db.session, index)
    return {
        "log_index": found.log_index,
        "leaf_hash": _b64(found.leaf_hash),
        "entry": json.loads(found.entry),
        "canonical": found.entry.decode("utf-8"),
    }, {"Cache-Control": IMMUTABLE}


@route(
    bp,
    "/proof/inclusion",
    access=PUBLIC,
    query=InclusionQuery,
    response=InclusionProofOut,
    area=AREA,
    responses={404: "No entry with that index or leaf hash, or no checkpoint of that size"},
)
def inclusion(query: InclusionQuery) -> tuple[dict[str, Any], dict[str, str]]:
    """Inclusion proof of an entry, by ``index`` or ``leaf_hash``, against a signed checkpoint
    (``tree_size``, default the latest)."""
    leaf_hash = services.parse_leaf_hash(query.leaf_hash) if query.leaf_hash is not None else None
    proof = services.inclusion_proof(
        db.session, index=query.index, leaf_hash=leaf_hash, tree_size=query.tree_size
    )
    return proof.as_json(), {"Cache-Control": IMMUTABLE if query.tree_size else SHORT}


@route(
    bp,
    "/proof/consistency",
    access=PUBLIC,
    query=ConsistencyQuery,
    response=ConsistencyProofOut,
    area=AREA,
    responses={404: "No signed checkpoint of that size (not every size is signed)"},
)
def consistency(query: ConsistencyQuery) -> tuple[dict[str, Any], dict[str, str]]:
    """Consistency proof that the signed checkpoint of size ``to`` (default the latest) extends
    the tree of size ``from``."""
    proof = services.consistency_proof(db.session, query.from_, query.to)
    return proof.as_json(), {"Cache-Control": IMMUTABLE if query.to else SHORT}
