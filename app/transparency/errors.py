"""Errors of the transparency log."""

from flask_babel import lazy_gettext

from app.errors import BadRequest, InvalidInput, NotFound


class InvalidLogEntry(InvalidInput):
    """A domain asked to append an entry that is not in the entry format (a programming error)."""

    slug = "invalid-log-entry"
    title = lazy_gettext("Invalid transparency log entry")


class LogNotStarted(NotFound):
    slug = "log-not-started"
    title = lazy_gettext("The transparency log has no checkpoint yet")


class LogEntryNotFound(NotFound):
    slug = "log-entry-not-found"
    title = lazy_gettext("No such transparency log entry")


class LeafHashNotFound(NotFound):
    slug = "leaf-hash-not-found"
    title = lazy_gettext("No transparency log entry with this leaf hash")


class CheckpointNotFound(NotFound):
    slug = "checkpoint-not-found"
    title = lazy_gettext("No checkpoint of this size")


class TileNotFound(NotFound):
    slug = "tile-not-found"
    title = lazy_gettext("No such tile")


class TreeSizeBeyondLog(BadRequest):
    slug = "tree-size-beyond-log"
    title = lazy_gettext("Tree size beyond the log")


class IndexOutOfRange(BadRequest):
    slug = "index-out-of-range"
    title = lazy_gettext("Index outside the tree")


class MalformedLeafHash(BadRequest):
    slug = "malformed-leaf-hash"
    title = lazy_gettext("Malformed leaf hash")


class InvalidProofRequest(BadRequest):
    slug = "invalid-proof-request"
    title = lazy_gettext("Invalid proof request")


class LogIntegrityError(RuntimeError):
    """The stored log contradicts itself (a gap, a leaf hash that does not match its entry).

    Not a domain error: it means tampering or a bug, and must stop the operation with a 500.
    """
