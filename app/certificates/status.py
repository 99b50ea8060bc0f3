"""Status lists: one revocation and one suspension list per association, each published as a
signed ``BitstringStatusListCredential`` at a stable URL
(``/orgs/<slug>/status/<purpose>/<sequence>``).

A list has 131,072 bits. Its certificates get their indices in an order nobody outside can
predict or reconstruct (herd privacy, as Bitstring Status List v1.0 asks): the n-th certificate
of a list gets bit ``P(n)``, where ``P`` is a pseudo-random permutation of the list's indices
keyed by a random secret of the list (:class:`SlotPermutation`). A permutation never gives two
positions the same index, so the indices are distinct without asking the database which are
taken, and without an index on random keys. A list counts as full, and the next one is
opened, when half its bits are handed out, so that every list keeps a large crowd of unused
bits. Every change of a bit re-signs the list with the association's active key. Callers hold
the issuer lock (:func:`app.certificates.keys.lock_issuer`), which serialises allocation and
bit flips.

Lists made before keyed allocation (no ``slot_key``) had their indices drawn at random and
checked against the taken ones; they take no new certificates (their bits still change).
"""

from __future__ import annotations

import functools
import hashlib
import os
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
from app.certificates.models import StatusList, StatusPurpose
from app.certificates.statuslist import (
    MIN_BITS,
    Bitstring,
    build_status_list_credential,
)
from app.db import run_sql, utcnow

LIST_SIZE = MIN_BITS
SLOT_KEY_BYTES = 32
# Plain SQL for the driver (see app.db.run_sql): every issuance runs these twice.
_OPEN_LIST = (
    "SELECT id, purpose, sequence, size_bits, allocated, slot_key FROM status_lists "
    "WHERE organisation_id = {p} AND purpose = {p} AND allocated * 2 < size_bits "
    "AND slot_key IS NOT NULL ORDER BY sequence DESC LIMIT 1"
)
# The positions handed out are the ones before the returned count: the row's own update says
# which, however the statements of concurrent transactions interleave.
_ALLOCATE = "UPDATE status_lists SET allocated = allocated + {p} WHERE id = {p} RETURNING allocated"


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
        slot_key=os.urandom(SLOT_KEY_BYTES),
    )
    _sign(status_list, organisation, signing, bits, utcnow())
    session.add(status_list)
    session.flush()
    return status_list


class SlotPermutation:
    """A keyed pseudo-random permutation of ``range(size)``: ``index(n)`` is the index the n-th
    certificate of a list gets.

    An alternating Feistel network over the ``bits = (size - 1).bit_length()`` bits of an index,
    split into a high half of ``bits // 2`` and a low half of the rest, with
    :data:`ROUNDS` rounds whose round functions are random tables drawn from the key
    (SHAKE-256): every round is a bijection, so the whole is one, and without the key the
    order of the indices looks random. For a size that is not a power of two, values past the
    end are mapped again until they fall inside (cycle walking), which keeps it a permutation
    of ``range(size)``.
    """

    ROUNDS = 8

    def __init__(self, key: bytes, size: int) -> None:
        if len(key) < 16:
            raise ValueError("a slot permutation needs a key of at least 16 bytes")
        if size < 4:
            raise ValueError("a slot permutation needs at least 4 indices")
        self.size = size
        bits = (size - 1).bit_length()
        self._high_bits = bits // 2
        self._low_bits = bits - self._high_bits
        widths = (self._high_bits, self._low_bits)
        tables: list[tuple[int, ...]] = []
        for round_ in range(self.ROUNDS):
            # Even rounds map the low half (the input) onto a new high half, odd ones the
            # reverse; each table has an entry per value of its input half.
            out_bits, in_bits = widths if round_ % 2 == 0 else widths[::-1]
            stream = hashlib.shake_256(
                b"brandtrace status slot permutation\x00" + bytes([round_]) + key
            ).digest(4 << in_bits)
            mask = (1 << out_bits) - 1
            tables.append(
                tuple(
                    int.from_bytes(stream[i : i + 4], "big") & mask
                    for i in range(0, 4 << in_bits, 4)
                )
            )
        self._tables = tables

    def _once(self, value: int) -> int:
        high, low = value >> self._low_bits, value & ((1 << self._low_bits) - 1)
        for table in self._tables:
            # (high, low) -> (low, high ^ F(low)): the halves swap widths every round, and
            # after an even number of rounds they are back in place.
            high, low = low, high ^ table[low]
        return (high << self._low_bits) | low

    def index(self, position: int) -> int:
        """The index at ``position`` (``0 <= position < size``)."""
        if not 0 <= position < self.size:
            raise ValueError(f"position {position} is outside 0..{self.size - 1}")
        value = self._once(position)
        while value >= self.size:
            value = self._once(value)
        return value

    def indices(self, positions: Iterable[int]) -> list[int]:
        return [self.index(position) for position in positions]


@functools.lru_cache(maxsize=64)
def slot_permutation(key: bytes, size: int) -> SlotPermutation:
    """The permutation of a list (its tables are drawn once per process)."""
    return SlotPermutation(key, size)


@dataclass(frozen=True)
class OpenList:
    """A list taking new certificates: what allocating from it needs."""

    id: int
    purpose: StatusPurpose
    sequence: int
    size_bits: int
    allocated: int
    slot_key: bytes


def _open_list(session: Session, organisation_id: int, purpose: StatusPurpose) -> OpenList | None:
    # Core, read as committed (under the issuer lock), without the bits nor the signed list
    # (17 kB) that loading the ORM object would bring: allocating needs neither.
    rows = run_sql(session.connection(), _OPEN_LIST, (organisation_id, purpose.value))
    if not rows:
        return None
    list_id, stored_purpose, sequence, size_bits, allocated, slot_key = rows[0]
    return OpenList(
        list_id, StatusPurpose(stored_purpose), sequence, size_bits, allocated, bytes(slot_key)
    )


@dataclass(frozen=True)
class StatusSlot:
    """A bit reserved for one certificate: the list and the index in it."""

    status_list: OpenList
    index: int


def _capacity(status_list: OpenList) -> int:
    # Half the bits: every list keeps a crowd of clear bits.
    return status_list.size_bits // 2


def allocate(
    session: Session,
    organisation: Organisation,
    purpose: StatusPurpose,
    count: int,
    signing: keys.SigningKey,
) -> list[StatusSlot]:
    """Reserve the next ``count`` indices of ``purpose`` (moving on to a new list when one is
    full): the list's next positions, through its permutation. The caller stores them on
    certificates in the same transaction."""
    slots: list[StatusSlot] = []
    while len(slots) < count:
        status_list = _open_list(session, organisation.id, purpose)
        if status_list is None:
            created = _new_list(session, organisation, purpose, signing)
            assert created.slot_key is not None
            status_list = OpenList(
                created.id, purpose, created.sequence, created.size_bits, 0, created.slot_key
            )
        taking = min(_capacity(status_list) - status_list.allocated, count - len(slots))
        ((allocated,),) = run_sql(session.connection(), _ALLOCATE, (taking, status_list.id))
        positions = range(allocated - taking, allocated)
        if positions.stop > _capacity(status_list):  # only if the issuer lock was not held
            raise RuntimeError(f"status list {status_list.id} was allocated concurrently")
        permutation = slot_permutation(status_list.slot_key, status_list.size_bits)
        slots.extend(StatusSlot(status_list, index) for index in permutation.indices(positions))
        loaded = session.identity_map.get(identity_key(StatusList, status_list.id))
        if loaded is not None:  # a list object this session holds sees its new count
            set_committed_value(loaded, "allocated", allocated)
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
