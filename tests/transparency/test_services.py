"""The log service on the real database: appending, integration, checkpoints and proofs,
checked against full recomputation and against sigstore's independent verifiers."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json

import pytest
import rfc8785
from sigstore.errors import VerificationError
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.auth.models import Organisation
from app.db import utcnow
from app.transparency import merkle, services
from app.transparency.audit import audit_log
from app.transparency.client import BundleError, verify_inclusion_bundle
from app.transparency.entry import EntryType, make_entry, parse_entry
from app.transparency.errors import InvalidLogEntry, LogEntryNotFound
from app.transparency.models import LogCheckpoint, LogEntry, LogKey, LogNode, LogState
from app.transparency.note import Checkpoint, open_checkpoint, parse_verifier_key
from tests.transparency.conftest import append, log_signer, log_size
from tests.transparency.oracle import sigstore_verify_checkpoint, sigstore_verify_inclusion


def _all_leaves(session) -> list[bytes]:
    return [
        merkle.leaf_hash(entry)
        for entry in session.scalars(select(LogEntry.entry).order_by(LogEntry.log_index))
    ]


def _verifier(session):
    key = session.scalar(select(LogKey))
    return services.log_verifier(key)


def _checkpoint_sizes(session) -> list[int]:
    return list(session.scalars(select(LogCheckpoint.tree_size).order_by(LogCheckpoint.tree_size)))


def test_the_demo_started_the_log_with_its_own_key(session, demo) -> None:
    assert demo["log"]["origin"] == "brand.example.test/log"
    assert demo["log"]["checkpoint_url"] == "https://brand.example.test/log/checkpoint"
    verifier = parse_verifier_key(demo["log"]["vkey"])
    assert verifier.name == demo["log"]["origin"]
    first = parse_entry(session.get(LogEntry, 0).entry)
    assert first.entry_type is EntryType.KEY_ADDED
    assert first.record_type == "log_key"
    assert first.details["vkey"] == demo["log"]["vkey"]
    assert first.organisation is None


def test_the_log_key_is_stored_sealed(session, app) -> None:
    key = session.scalar(select(LogKey))
    private_key = log_signer(app, session).private_key
    raw = private_key.private_bytes_raw()
    assert raw.hex() not in key.sealed_private_key
    assert base64.b64encode(raw).decode() not in key.sealed_private_key
    assert private_key.public_key().public_bytes_raw() == key.public_key


def test_entries_get_consecutive_indices_and_are_integrated_when_they_commit(session) -> None:
    start = log_size(session)
    entries = append(session, 5)
    assert [entry.log_index for entry in entries] == list(range(start, start + 5))
    assert services.latest_checkpoint(session).tree_size == start  # pending until commit
    session.commit()

    checkpoint = services.latest_checkpoint(session)
    assert checkpoint.tree_size == start + 5
    # The stored root is RFC 6962's Merkle Tree Hash of every entry, recomputed from scratch.
    assert checkpoint.root_hash == merkle.root_hash(_all_leaves(session))
    signed, signers = open_checkpoint(checkpoint.note, _verifier(session))
    assert signed == Checkpoint("brand.example.test/log", start + 5, checkpoint.root_hash)
    assert signers == ["brand.example.test/log"]
    assert session.get(LogState, 1).integrated_size == start + 5


def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(session) -> None:
    start = log_size(session)
    checkpoints = _checkpoint_sizes(session)
    append(session, 3)
    session.rollback()
    assert log_size(session) == start
    assert session.scalar(select(func.count()).where(LogEntry.log_index >= start)) == 0
    assert _checkpoint_sizes(session) == checkpoints
    [again] = append(session, 1)
    assert again.log_index == start
    session.commit()
    assert audit_log(session).ok


def test_an_entry_is_the_canonical_json_of_its_fields(session) -> None:
    firm = session.scalar(select(Organisation).where(Organisation.slug == "hongxiang-tea"))
    content = {"id": "urn:uuid:1", "名称": "祁门红茶", "grade": 1}
    entry = services.append_entry(
        session,
        entry_type="epcis_event.captured",
        record_type="epcis_event",
        record_id=77,
        content=content,
        organisation_id=firm.id,
        details={"event_hash_id": "ni:///sha-256;" + "a" * 64 + "?ver=CBV2.0"},
    )
    document = json.loads(entry.entry)
    assert entry.entry == rfc8785.dumps(document)
    assert document == {
        "content_sha256": hashlib.sha256(rfc8785.dumps(content)).hexdigest(),
        "details": {"event_hash_id": "ni:///sha-256;" + "a" * 64 + "?ver=CBV2.0"},
        "occurred_at": document["occurred_at"],
        "organisation": "hongxiang-tea",
        "record": {"id": "77", "type": "epcis_event"},
        "type": "epcis_event.captured",
        "v": 1,
    }
    assert entry.occurred_at.isoformat().replace("+00:00", "Z") == document["occurred_at"]
    assert entry.leaf_hash == hashlib.sha256(b"\x00" + entry.entry).digest()
    raw = services.append_entry(
        session,
        entry_type=EntryType.LABEL_ORDER_ISSUED,
        record_type="label_order",
        record_id="LO-1",
        content=b"codes",
        organisation_id=firm.id,
    )
    assert json.loads(raw.entry)["content_sha256"] == hashlib.sha256(b"codes").hexdigest()
    assert [e.log_index for e in services.entries_for_record(session, "epcis_event", 77)] == [
        entry.log_index
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"entry_type": "certificate.lost"}, "entry_type"),
        ({"record_type": "Certificate"}, "record_type"),
        ({"record_id": ""}, "record_id"),
        ({"record_id": "x" * 201}, "record_id"),
        ({"content": "text is neither bytes nor an object"}, "content"),
        ({"content": {"when": object()}}, "content"),
        ({"details": {"Bad-Name": 1}}, "details.Bad-Name"),
        ({"details": {"nested": {"a": 1}}}, "details.nested"),
        ({"organisation_id": 999_999}, "organisation_id"),
    ],
)
def test_entries_outside_the_format_are_refused(session, change, field) -> None:
    start = log_size(session)
    arguments = {
        "entry_type": EntryType.CERTIFICATE_ISSUED,
        "record_type": "certificate",
        "record_id": 1,
        "content": {"a": 1},
        "organisation_id": None,
    } | change
    with pytest.raises(InvalidLogEntry) as raised:
        services.append_entry(session, **arguments)
    assert raised.value.status == 422
    assert raised.value.slug == "invalid-log-entry"
    assert [error.field for error in raised.value.errors] == [field]
    assert log_size(session) == start


def test_small_integration_batches_build_the_same_tree(session, monkeypatch) -> None:
    monkeypatch.setattr(services, "INTEGRATION_BATCH", 3)
    append(session, 20)
    session.commit()
    checkpoint = services.latest_checkpoint(session)
    assert checkpoint.root_hash == merkle.root_hash(_all_leaves(session))
    assert audit_log(session).ok


def test_integration_adds_nodes_and_never_rewrites_existing_ones(session) -> None:
    def nodes() -> dict[tuple[int, int], bytes]:
        rows = session.execute(select(LogNode.level, LogNode.node_index, LogNode.hash))
        return {(level, index): value for level, index, value in rows}

    old_size = log_size(session)
    before = nodes()
    append(session, 7)
    session.commit()
    after = nodes()
    new_size = old_size + 7
    assert {key: after[key] for key in before} == before
    expected_new = sum((new_size >> level) - (old_size >> level) for level in range(64))
    assert len(after) - len(before) == expected_new


def test_integrate_with_nothing_pending_signs_nothing_new(session) -> None:
    append(session, 2)
    session.commit()
    count = session.scalar(select(func.count()).select_from(LogCheckpoint))
    latest = services.integrate(session)
    assert latest is not None and latest.tree_size == log_size(session)
    assert session.scalar(select(func.count()).select_from(LogCheckpoint)) == count


def test_inclusion_proofs_verify_here_and_with_sigstore(session) -> None:
    for batch in (1, 5, 7):
        append(session, batch)
        session.commit()
    verifier = _verifier(session)
    checked = 0
    for size in _checkpoint_sizes(session):
        checkpoint, _ = open_checkpoint(
            session.scalar(select(LogCheckpoint.note).where(LogCheckpoint.tree_size == size)),
            verifier,
        )
        for index in range(size):
            proof = services.inclusion_proof(session, index=index, tree_size=size)
            assert proof.root_hash == checkpoint.root_hash
            merkle.verify_inclusion(proof.leaf_hash, index, size, proof.hashes, proof.root_hash)
            sigstore_verify_inclusion(proof.entry, index, size, proof.hashes, proof.root_hash)
            checked += 1
    assert checked >= 1 + 2 + 7 + 14
    by_hash = services.inclusion_proof(session, leaf_hash=proof.leaf_hash)
    assert by_hash.log_index == proof.log_index


def test_sigstore_rejects_a_proof_we_tampered_with(session) -> None:
    append(session, 6)
    session.commit()
    proof = services.inclusion_proof(session, index=3)
    hashes = [*proof.hashes]
    hashes[0] = bytes(32)
    with pytest.raises(VerificationError):
        sigstore_verify_inclusion(proof.entry, 3, proof.tree_size, hashes, proof.root_hash)


def test_consistency_proofs_between_every_pair_of_checkpoints_verify(session) -> None:
    for batch in (3, 1, 9):
        append(session, batch)
        session.commit()
    sizes = _checkpoint_sizes(session)
    roots = dict(session.execute(select(LogCheckpoint.tree_size, LogCheckpoint.root_hash)).all())
    for new in sizes:
        for old in range(1, new + 1):
            proof = services.consistency_proof(session, old, new)
            old_root = merkle.root_hash(_all_leaves(session)[:old])
            merkle.verify_consistency(old, new, old_root, roots[new], proof.hashes)


def test_stored_checkpoints_verify_with_sigstore(session) -> None:
    append(session, 3)
    session.commit()
    latest = services.latest_checkpoint(session)
    parsed = sigstore_verify_checkpoint(latest.note, _verifier(session))
    assert parsed.origin == "brand.example.test/log"
    assert parsed.log_size == latest.tree_size
    assert parsed.log_hash == latest.root_hash.hex()
    with pytest.raises(VerificationError):
        sigstore_verify_checkpoint(
            latest.note.replace(f"\n{latest.tree_size}\n", f"\n{latest.tree_size + 1}\n"),
            _verifier(session),
        )


def test_an_inclusion_bundle_integrates_first_and_is_checkable_offline(session, demo) -> None:
    [entry] = append(session, 1)
    bundle = services.inclusion_bundle(session, entry.log_index)  # before the commit
    assert bundle["tree_size"] == entry.log_index + 1
    assert json.loads(json.dumps(bundle)) == bundle  # plain JSON, ready to embed
    checkpoint, checked = verify_inclusion_bundle(bundle, demo["log"]["vkey"])
    assert checked.record_id == "test-0"
    assert checkpoint.size == bundle["tree_size"]
    session.commit()  # the checkpoint it was proven against is stored, not re-signed
    assert services.latest_checkpoint(session).note == bundle["checkpoint"]


@pytest.mark.parametrize(
    "forgery",
    [
        lambda b: b | {"entry": b["entry"].replace("test-0", "test-9")},
        lambda b: b | {"log_index": b["log_index"] - 1},
        lambda b: b | {"hashes": [base64.b64encode(bytes(32)).decode(), *b["hashes"][1:]]},
        lambda b: b | {"checkpoint": b["checkpoint"].replace("log\n", "log\n1", 1)},
        lambda b: {key: value for key, value in b.items() if key != "leaf_hash"},
    ],
)
def test_a_forged_bundle_is_refused(session, demo, forgery) -> None:
    append(session, 4)
    [entry] = append(session, 1)
    session.commit()
    bundle = services.inclusion_bundle(session, entry.log_index)
    verify_inclusion_bundle(bundle, demo["log"]["vkey"])
    with pytest.raises(BundleError):
        verify_inclusion_bundle(forgery(bundle), demo["log"]["vkey"])


def test_a_bundle_needs_the_right_key(session) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.transparency.note import NoteVerifier, format_verifier_key

    [entry] = append(session, 1)
    session.commit()
    bundle = services.inclusion_bundle(session, entry.log_index)
    impostor = NoteVerifier.from_public_key(
        "brand.example.test/log", Ed25519PrivateKey.generate().public_key()
    )
    with pytest.raises(BundleError, match="not signed by any known key"):
        verify_inclusion_bundle(bundle, format_verifier_key(impostor))


def test_an_inclusion_bundle_for_an_unknown_index_is_not_found(session) -> None:
    with pytest.raises(LogEntryNotFound):
        services.inclusion_bundle(session, log_size(session) + 5)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE log_entries SET record_id = 'forged'",
        "DELETE FROM log_entries",
        "UPDATE log_nodes SET hash = hash",
        "DELETE FROM log_nodes",
        "UPDATE log_checkpoints SET note = 'forged'",
        "DELETE FROM log_checkpoints",
        "UPDATE log_keys SET origin = 'evil.example/log'",
        "DELETE FROM log_keys",
        "UPDATE log_state SET next_index = next_index - 1",
        "UPDATE log_state SET integrated_size = 0",
        "DELETE FROM log_state",
    ],
)
def test_the_database_refuses_to_change_or_delete_log_rows(session, statement) -> None:
    refused = r"append-only|only moves forward|never deleted"
    with pytest.raises(DBAPIError, match=refused), session.begin_nested():
        session.execute(text(statement))


def test_postgresql_refuses_to_truncate_the_log(session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("TRUNCATE log_entries CASCADE"))


def test_the_audit_of_a_healthy_log_passes(session) -> None:
    append(session, 11)
    session.commit()
    report = audit_log(session)
    assert report.ok, report.problems
    assert report.entries == report.integrated_size == log_size(session)
    assert report.root_hash == services.latest_checkpoint(session).root_hash
    assert report.nodes == sum(log_size(session) >> level for level in range(64))


def test_origin_is_the_host_and_port_of_the_base_url() -> None:
    assert services.origin_for("https://brand.example.org") == "brand.example.org/log"
    assert services.origin_for("http://127.0.0.1:5000") == "127.0.0.1:5000/log"
    assert services.origin_for("http://[::1]:8080") == "[::1]:8080/log"


def _new(i: int, **change) -> services.NewEntry:
    fields = {
        "entry_type": EntryType.EPCIS_EVENT_CAPTURED,
        "record_type": "epcis_event",
        "record_id": f"batch-{i}",
        "content": {"event": i},
        "organisation_id": None,
    } | change
    return services.NewEntry(**fields)


def test_a_batch_gets_consecutive_indices_in_order(session) -> None:
    start = log_size(session)
    entries = services.append_entries(session, [_new(i) for i in range(6)])
    assert [e.log_index for e in entries] == list(range(start, start + 6))
    assert [e.record_id for e in entries] == [f"batch-{i}" for i in range(6)]
    assert services.append_entries(session, []) == []
    session.commit()
    assert services.latest_checkpoint(session).tree_size == start + 6
    assert audit_log(session).ok


def test_a_batch_appended_for_its_indices_stores_the_same_entries(session) -> None:
    start = log_size(session)
    indices = services.append_entry_indices(session, [_new(i) for i in range(4)])
    assert list(indices) == list(range(start, start + 4))
    stored = [services._entry_at(session, index) for index in indices]
    assert [e.record_id for e in stored] == [f"batch-{i}" for i in range(4)]
    assert all(e.leaf_hash == merkle.leaf_hash(e.entry) for e in stored)
    assert parse_entry(stored[0].entry).record_id == "batch-0"
    assert list(services.append_entry_indices(session, [])) == []
    with pytest.raises(InvalidLogEntry):
        services.append_entry_indices(session, [_new(9, record_type="Bad")])
    session.commit()
    assert services.latest_checkpoint(session).tree_size == start + 4
    assert audit_log(session).ok


def test_a_batch_with_one_invalid_entry_appends_nothing(session) -> None:
    start = log_size(session)
    with pytest.raises(InvalidLogEntry) as raised:
        services.append_entries(session, [_new(0), _new(1, record_type="Bad"), _new(2)])
    assert [error.field for error in raised.value.errors] == ["entries[1].record_type"]
    assert log_size(session) == start


def test_a_rolled_back_append_does_not_make_the_next_commit_integrate(session) -> None:
    append(session, 1)
    session.rollback()
    assert "brandtrace.transparency.pending" not in session.info
    [kept] = append(session, 1)
    savepoint = session.begin_nested()
    append(session, 1)
    savepoint.rollback()  # a rolled-back savepoint leaves the entry around it pending
    assert session.info["brandtrace.transparency.pending"]
    session.commit()
    assert services.latest_checkpoint(session).tree_size == log_size(session) == kept.log_index + 1


def test_entries_appended_again_after_a_rolled_back_savepoint_are_integrated_as_stored(
    session,
) -> None:
    # The savepoint's entries took indices that the entries appended after it take again, with
    # other content: the integration must use the stored entries, not the leaves it computed.
    [kept] = append(session, 1)
    savepoint = session.begin_nested()
    services.append_entries(session, [_new(i) for i in range(3)])
    savepoint.rollback()
    again = services.append_entries(session, [_new(i + 10) for i in range(3)])
    assert [entry.log_index for entry in again] == [kept.log_index + 1 + i for i in range(3)]
    session.commit()
    checkpoint = services.latest_checkpoint(session)
    assert checkpoint.tree_size == log_size(session) == kept.log_index + 4
    assert checkpoint.root_hash == merkle.root_hash(_all_leaves(session))
    assert audit_log(session).ok


def test_a_run_of_entries_of_one_kind_is_built_as_each_would_be_alone(session) -> None:
    firm = session.scalar(select(Organisation).where(Organisation.slug == "hongxiang-tea"))
    when = utcnow()
    items = [
        services.NewEntry(
            entry_type=EntryType.CERTIFICATE_ISSUED,
            record_type="certificate",
            record_id=f"QTA-2026-{i:06d}",
            content=f"credential {i} 祁门".encode(),
            organisation_id=firm.id,
            occurred_at=when,
            details={"replaces": f"QTA-2025-{i:06d}"} if i % 2 else None,
        )
        for i in range(4)
    ]
    appended = services.append_entries(session, items)
    for item, stored in zip(items, appended, strict=True):
        alone = make_entry(
            entry_type=item.entry_type,
            record_type=item.record_type,
            record_id=item.record_id,
            content=item.content,
            occurred_at=when,
            organisation=firm.slug,
            details=item.details,
        )
        assert stored.entry == alone.canonical == rfc8785.dumps(json.loads(stored.entry))
    with pytest.raises(InvalidLogEntry) as raised:
        services.append_entries(
            session, [items[0], dataclasses.replace(items[1], record_id="bad\nid")]
        )
    assert [error.field for error in raised.value.errors] == ["entries[1].record_id"]


def test_seeding_the_demo_again_keeps_the_same_log(session, demo) -> None:
    from app.demo.seed import seed_demo

    size = log_size(session)
    again = seed_demo(session, "https://brand.example.test")
    session.commit()
    assert again["log"] == demo["log"]
    assert log_size(session) == size
    assert session.scalar(select(func.count()).select_from(LogKey)) == 1
