"""Status lists: one revocation and one suspension list per association, each published as a
signed ``BitstringStatusListCredential`` at a stable URL
(``/orgs/<slug>/status/<purpose>/<sequence>``).

A list has 131,072 bits. Indices are drawn at random among the free ones (herd privacy); a
list counts as full, and the next one is opened, when half its bits are handed out, so that
random draws stay cheap and every list keeps a large crowd of unused bits. Every change of a
bit re-signs the list with the association's active key. Callers hold the issuer lock
(:func:`app.certificates.keys.lock_issuer`), which serialises allocation and bit flips.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.auth.models import Organisation
from app.certificates import keys
from app.certificates.dataintegrity import format_created, sign_document
from app.certificates.models import Certificate, StatusList, StatusPurpose
from app.certificates.statuslist import (
    MIN_BITS,
    Bitstring,
    build_status_list_credential,
)
from app.db import driver_execute, placeholder, run_sql, utcnow

LIST_SIZE = MIN_BITS
_QUERY_CHUNK = 500
# Plain SQL for the driver (see app.db.run_sql): every issuance runs these twice.
_OPEN_LIST = (
    "SELECT id, purpose, sequence, size_bits, allocated FROM status_lists "
    "WHERE organisation_id = {p} AND purpose = {p} AND allocated * 2 < size_bits "
    "ORDER BY sequence DESC LIMIT 1"
)
_ALLOCATE = "UPDATE status_lists SET allocated = allocated + {p} WHERE id = {p}"


def list_path(organisation_slug: str, purpose: StatusPurpose | str, sequence: int) -> str:
    return f"/orgs/{organisation_slug}/status/{StatusPurpose(purpose).value}/{sequence}"


def list_url(organisation_slug: str, purpose: StatusPurpose | str, sequence: int) -> str:
    """The stable public URL of a status list credential."""
    return keys.base_url() + list_path(organisation_slug, purpose, sequence)


def _sign(
    status_list: StatusList,
    organisation: Organisation,
    signing: keys.SigningKey,
    bits: Bitstring,
    now: datetime,
) -> None:
    created = format_created(now)
    unsigned = build_status_list_credential(
        list_url=list_url(organisation.slug, status_list.purpose, status_list.sequence),
        issuer=signing.issuer_did,
        status_purpose=status_list.purpose.value,
        encoded_list=bits.encode(),
        valid_from=created,
    )
    text = sign_document(
        unsigned,
        signing.private_key,
        verification_method=signing.verification_method,
        created=created,
    ).text.decode("utf-8")
    status_list.credential_json = text
    status_list.etag = hashlib.sha256(text.encode()).hexdigest()[:32]
    status_list.signed_at = now


def _new_list(
    session: Session, organisation: Organisation, purpose: StatusPurpose, signing: keys.SigningKey
) -> StatusList:
    last = session.scalar(
        select(func.max(StatusList.sequence)).where(
            StatusList.organisation_id == organisation.id, StatusList.purpose == purpose
        )
    )
    bits = Bitstring(LIST_SIZE)
    status_list = StatusList(
        organisation_id=organisation.id,
        purpose=purpose,
        sequence=(last or 0) + 1,
        size_bits=LIST_SIZE,
        bits=bits.to_bytes(),
        allocated=0,
    )
    _sign(status_list, organisation, signing, bits, utcnow())
    session.add(status_list)
    session.flush()
    return status_list


@dataclass(frozen=True)
class OpenList:
    """A list taking new certificates: what allocating from it needs."""

    id: int
    purpose: StatusPurpose
    sequence: int
    size_bits: int
    allocated: int


def _open_list(session: Session, organisation_id: int, purpose: StatusPurpose) -> OpenList | None:
    # Core, read as committed (under the issuer lock), without the bits nor the signed list
    # (17 kB) that loading the ORM object would bring: allocating needs neither.
    rows = run_sql(session.connection(), _OPEN_LIST, (organisation_id, purpose.value))
    if not rows:
        return None
    list_id, stored_purpose, sequence, size_bits, allocated = rows[0]
    return OpenList(list_id, StatusPurpose(stored_purpose), sequence, size_bits, allocated)


def _taken(session: Session, status_list: OpenList, candidates: list[int]) -> set[int]:
    if status_list.purpose == StatusPurpose.REVOCATION:
        list_column, index_column = Certificate.revocation_list_id, Certificate.revocation_index
    else:
        list_column, index_column = Certificate.suspension_list_id, Certificate.suspension_index
    taken: set[int] = set()
    # Plain SQL on the session's connection, in its transaction: rendering hundreds of bound
    # values through SQLAlchemy's expanding IN costs more than the query.
    connection = session.connection()
    marker = placeholder(connection)
    for start in range(0, len(candidates), _QUERY_CHUNK):
        chunk = candidates[start : start + _QUERY_CHUNK]
        # Column names and placeholders only: the values are bound.
        sql = (
            f"SELECT {index_column.name} FROM {Certificate.__tablename__} "  # noqa: S608
            f"WHERE {list_column.name} = {marker} "
            f"AND {index_column.name} IN ({', '.join([marker] * len(chunk))})"
        )
        taken.update(
            index for (index,) in driver_execute(connection, sql, (status_list.id, *chunk))
        )
    return taken


def _random_indices(size: int, count: int, exclude: set[int]) -> list[int]:
    """``count`` distinct indices drawn uniformly from ``range(size)``, none in ``exclude``.

    One read of the operating system's CSPRNG per round (64 bits per draw, masked to the next
    power of two; values past ``size`` are rejected, so every index is equally likely): far
    cheaper than a ``SystemRandom`` call per draw.
    """
    mask = (1 << (size - 1).bit_length()) - 1
    seen = set(exclude)
    drawn: list[int] = []
    while len(drawn) < count:
        batch = count - len(drawn) + 8
        for value in struct.unpack(f"<{batch}Q", os.urandom(8 * batch)):
            index = value & mask
            if index < size and index not in seen:
                seen.add(index)
                drawn.append(index)
                if len(drawn) == count:
                    break
    return drawn


@dataclass(frozen=True)
class StatusSlot:
    """A bit reserved for one certificate: the list and the index in it."""

    status_list: OpenList
    index: int


def _draw(session: Session, status_list: OpenList, count: int, reserved: set[int]) -> list[int]:
    """``count`` indices drawn uniformly among the list's free ones.

    Rejection sampling against the database: draw candidates, ask which are taken, keep the
    free ones in draw order. A list closes at half its size (see :func:`_capacity`), so more
    than half of any draw is free and the cost per index stays constant however many
    certificates the list holds (no scan of the used indices). Each round draws enough
    candidates for the share of the list still free, with a margin, so one round (one query)
    is the rule.
    """
    free_share = max(1 - status_list.allocated / status_list.size_bits, 0.5)
    chosen: list[int] = []
    while len(chosen) < count:
        wanted = count - len(chosen)
        room = status_list.size_bits - len(reserved)
        candidates = _random_indices(
            status_list.size_bits, min(int(wanted / free_share * 1.25) + 8, room), reserved
        )
        taken = _taken(session, status_list, candidates)
        for candidate in candidates:
            if candidate not in taken and len(chosen) < count:
                chosen.append(candidate)
                reserved.add(candidate)
    return chosen


def _capacity(status_list: OpenList) -> int:
    # Half the bits: random draws stay cheap, and every list keeps a crowd of clear bits.
    return status_list.size_bits // 2


def allocate(
    session: Session,
    organisation: Organisation,
    purpose: StatusPurpose,
    count: int,
    signing: keys.SigningKey,
) -> list[StatusSlot]:
    """Reserve ``count`` random free indices of ``purpose`` (moving on to a new list when one
    is full). The caller stores them on certificates in the same transaction."""
    slots: list[StatusSlot] = []
    while len(slots) < count:
        status_list = _open_list(session, organisation.id, purpose)
        if status_list is None:
            created = _new_list(session, organisation, purpose, signing)
            status_list = OpenList(created.id, purpose, created.sequence, created.size_bits, 0)
        room = _capacity(status_list) - status_list.allocated
        indices = _draw(session, status_list, min(room, count - len(slots)), set())
        slots.extend(StatusSlot(status_list, index) for index in indices)
        run_sql(session.connection(), _ALLOCATE, (len(indices), status_list.id))
        loaded = session.identity_map.get(identity_key(StatusList, status_list.id))
        if loaded is not None:  # a list object this session holds sees its new count
            set_committed_value(loaded, "allocated", status_list.allocated + len(indices))
    return slots


def set_bits(
    session: Session,
    organisation: Organisation,
    changes: Iterable[tuple[int, int, bool]],
    signing: keys.SigningKey,
) -> None:
    """Apply ``(list id, index, value)`` changes and re-sign each list that changed."""
    by_list: dict[int, list[tuple[int, bool]]] = {}
    for list_id, index, value in changes:
        by_list.setdefault(list_id, []).append((index, value))
    now = utcnow()
    for list_id, items in by_list.items():
        status_list = session.get(StatusList, list_id, with_for_update=True, populate_existing=True)
        assert status_list is not None and status_list.organisation_id == organisation.id
        bits = Bitstring.from_bytes(status_list.bits)
        for index, value in items:
            bits.set(index, value)
        status_list.bits = bits.to_bytes()
        _sign(status_list, organisation, signing, bits, now)
    session.flush()


def resign_lists(session: Session, organisation: Organisation) -> None:
    """Re-sign every list of the association with its active key (after a rotation or a
    revocation), leaving the bits as they are."""
    signing = keys.signing_key(session, organisation)
    now = utcnow()
    for status_list in session.scalars(
        select(StatusList).where(StatusList.organisation_id == organisation.id)
    ):
        _sign(status_list, organisation, signing, Bitstring.from_bytes(status_list.bits), now)
    session.flush()


def find_list(
    session: Session, organisation: Organisation, purpose: str, sequence: int
) -> StatusList | None:
    """A published list by its public coordinates."""
    if purpose not in {p.value for p in StatusPurpose}:
        return None
    return session.scalar(
        select(StatusList).where(
            StatusList.organisation_id == organisation.id,
            StatusList.purpose == StatusPurpose(purpose),
            StatusList.sequence == sequence,
        )
    )
