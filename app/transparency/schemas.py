"""Query and response schemas of the transparency log's public read API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from app.http.schemas import QuerySchema, ResponseSchema

MAX_SIZE = 2**63 - 1
_B64 = "standard base64"


class InclusionQuery(QuerySchema):
    index: int | None = Field(None, ge=0, le=MAX_SIZE, description="The entry's log index.")
    leaf_hash: str | None = Field(
        None,
        max_length=100,
        description="Or the entry's RFC 6962 leaf hash: 64 hex digits or base64.",
    )
    tree_size: int | None = Field(
        None,
        ge=1,
        le=MAX_SIZE,
        description="Size of a checkpoint the log signed (default: the latest).",
    )


class ConsistencyQuery(QuerySchema):
    from_: int = Field(
        alias="from", ge=0, le=MAX_SIZE, description="The older tree size (at least 1)."
    )
    to: int | None = Field(
        None,
        ge=1,
        le=MAX_SIZE,
        description="Size of a checkpoint the log signed (default: the latest).",
    )


class InclusionProofOut(ResponseSchema):
    """An entry's inclusion proof against a signed checkpoint: checkable offline."""

    log_index: int
    tree_size: int
    leaf_hash: str = Field(description=f"SHA-256(0x00 || entry), {_B64}.")
    hashes: list[str] = Field(description=f"RFC 9162 inclusion proof, leaf to root, {_B64}.")
    root_hash: str = Field(description=f"The checkpoint's root hash, {_B64}.")
    checkpoint: str = Field(description="The signed checkpoint note the proof is against.")
    entry: str = Field(description="The entry's exact bytes (canonical JSON).")


class ConsistencyProofOut(ResponseSchema):
    """Proof that the checkpoint of size ``to`` extends the tree of size ``from``."""

    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True)

    from_: int = Field(alias="from")
    to: int
    hashes: list[str] = Field(description=f"RFC 9162 consistency proof, {_B64}.")
    root_hash: str = Field(description=f"Root hash of the tree of size ``to``, {_B64}.")
    checkpoint: str = Field(description="The signed checkpoint of size ``to``.")


class LogEntryOut(ResponseSchema):
    log_index: int
    leaf_hash: str = Field(description=f"SHA-256(0x00 || canonical), {_B64}.")
    entry: dict[str, Any] = Field(description="The entry, parsed.")
    canonical: str = Field(description="The entry's exact bytes: RFC 8785 canonical JSON.")


class LogSummaryOut(ResponseSchema):
    """The log's identity and latest signed checkpoint."""

    origin: str
    vkey: str = Field(description="The log's verifier key (C2SP vkey); pin it.")
    tree_size: int
    root_hash: str
    checkpoint: str
    checkpoint_at: datetime
    checkpoint_url: str
    tiles_url: str
