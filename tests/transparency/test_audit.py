"""Catching tampering: ``log verify`` (the operator's audit) and the outside monitor, against an
attacker with write access to the database (and, for forks, the log's signing key)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from app.transparency import client as monitor
from app.transparency import merkle, services
from app.transparency.models import LogCheckpoint, LogEntry
from app.transparency.note import (
    Checkpoint,
    NoteVerifier,
    format_verifier_key,
    sign_checkpoint,
)
from tests.transparency.conftest import (
    append,
    flask_fetcher,
    fork_checkpoint,
    log_signer,
    log_size,
    tamper,
)


def _verify(app, *args: str):
    return app.test_cli_runner().invoke(args=["log", "verify", *args])


def _forge_entry(session, index: int) -> tuple[bytes, bytes]:
    """Rewrite entry ``index``'s bytes (a withdrawn certificate made to look issued, say)."""
    original = session.get(LogEntry, index).entry
    forged = original.replace(b'"id":"test-', b'"id":"fake-')
    assert forged != original
    tamper(
        session,
        "log_entries",
        "UPDATE log_entries SET entry = :e WHERE log_index = :i",
        e=forged,
        i=index,
    )
    session.expire_all()
    return original, forged


@pytest.fixture
def logged(session) -> int:
    """Some committed entries over a few checkpoints; returns the log size."""
    for batch in (3, 6, 4):
        append(session, batch)
        session.commit()
    return log_size(session)


# --- log verify -----------------------------------------------------------------------------


def test_verify_passes_on_an_untouched_log(app, logged) -> None:
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert f"ok: {logged} entries" in result.output
    assert "brand.example.test/log" in result.output


def test_verify_catches_an_entry_edited_in_the_database(app, session, logged) -> None:
    index = logged - 5
    _forge_entry(session, index)
    result = _verify(app)
    assert result.exit_code == 1
    assert "FAILED" in result.output
    assert f"entry {index}: its bytes hash to leaf" in result.output
    assert "changed after it was logged" in result.output
    assert f"leaf {index}: the stored tree holds" in result.output


def test_verify_reports_an_entry_rewritten_as_text_instead_of_failing(app, session, logged) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("only SQLite lets a binary column hold text")
    index = logged - 2
    tamper(
        session,
        "log_entries",
        "UPDATE log_entries SET entry = CAST(entry AS TEXT) WHERE log_index = :i",
        i=index,
    )
    session.expire_all()
    assert isinstance(session.get(LogEntry, index).entry, str)
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"entry {index}: its entry is stored as str, not as bytes" in result.output


def test_verify_catches_an_edit_covered_up_in_the_leaf_hash_and_the_tree(
    app, session, logged
) -> None:
    # The thorough attacker: edits the entry, its leaf hash and every node above it, so the
    # tree is internally consistent again. Only the signed checkpoints still tell.
    index = logged - 5
    _, forged = _forge_entry(session, index)
    tamper(
        session,
        "log_entries",
        "UPDATE log_entries SET leaf_hash = :h, record_id = :r WHERE log_index = :i",
        h=merkle.leaf_hash(forged),
        r=json.loads(forged)["record"]["id"],
        i=index,
    )
    leaves = [
        merkle.leaf_hash(e)
        for e in session.scalars(select(LogEntry.entry).order_by(LogEntry.log_index))
    ]
    tree = merkle.MemoryTree(leaves)
    for level in range(logged.bit_length()):
        position = index >> level
        if (position + 1) << level <= logged:
            tamper(
                session,
                "log_nodes",
                "UPDATE log_nodes SET hash = :h WHERE level = :l AND node_index = :n",
                h=tree.get_hashes(level, position, position + 1)[0],
                l=level,
                n=position,
            )
    result = _verify(app)
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert problems and all(p.startswith("  - checkpoint of size") for p in problems), problems
    assert f"checkpoint of size {logged}: its signed root" in result.output
    assert "is not the root recomputed from the entries" in result.output


def test_verify_catches_a_checkpoint_with_a_broken_signature(app, session, logged) -> None:
    note = services.latest_checkpoint(session).note
    tamper(
        session,
        "log_checkpoints",
        "UPDATE log_checkpoints SET note = :n WHERE tree_size = :s",
        n=note.replace("log\n", "log\n1", 1),
        s=logged,
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"checkpoint of size {logged}:" in result.output


def test_verify_catches_a_forked_checkpoint_signed_with_the_real_key(app, session, logged) -> None:
    fork_checkpoint(app, session, logged)
    result = _verify(app)
    assert result.exit_code == 1
    assert f"checkpoint of size {logged}: its signed root" in result.output


def test_verify_reports_a_log_table_left_without_its_trigger(app, session, logged) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE log_nodes DISABLE TRIGGER log_nodes_append_only"))
    else:
        session.execute(text("DROP TRIGGER log_nodes_no_delete"))
    result = _verify(app)
    assert result.exit_code == 1
    assert "log_nodes is not append-only: no trigger refuses DELETE" in result.output


def test_verify_with_a_pinned_key(app, session, logged, demo) -> None:
    assert _verify(app, "--vkey", demo["log"]["vkey"]).exit_code == 0
    other = NoteVerifier.from_public_key(
        "brand.example.test/log", Ed25519PrivateKey.generate().public_key()
    )
    result = _verify(app, "--vkey", format_verifier_key(other))
    assert result.exit_code == 1
    assert "is not the pinned key" in result.output
    assert "not signed by any known key" in result.output
    # A malformed key is bad input (exit 2, like the CLI's other usage errors), not a failed log.
    for garbage in ("not-a-key", "garbage", "brand.example.test/log+00000000+AAAA"):
        result = _verify(app, "--vkey", garbage)
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--vkey'" in result.output and "FAILED" not in result.output


def test_integrate_command_covers_entries_written_without_a_commit_hook(
    app, session, logged
) -> None:
    append(session, 2)
    session.flush()  # visible to the command's session, not yet committed or integrated
    result = app.test_cli_runner().invoke(args=["log", "integrate"])
    assert result.exit_code == 0, result.output
    assert f"tree size {logged + 2}" in result.output
    session.commit()
    assert services.latest_checkpoint(session).tree_size == logged + 2
    assert _verify(app).exit_code == 0


# --- the monitor ----------------------------------------------------------------------------


def test_monitor_pins_the_key_then_checks_only_new_entries(client, session, logged, demo) -> None:
    fetch = flask_fetcher(client)
    state, first = monitor.monitor_log(fetch, None)
    assert first.pinned_now and state.vkey == demo["log"]["vkey"]
    assert (first.previous_size, first.size, first.entries_checked) == (0, logged, logged)

    append(session, 5)
    session.commit()
    state, second = monitor.monitor_log(fetch, state)
    assert not second.pinned_now
    assert (second.previous_size, second.size, second.entries_checked) == (logged, logged + 5, 5)
    assert state.root_hash == services.latest_checkpoint(session).root_hash

    state, third = monitor.monitor_log(fetch, state, audit_all=True)
    assert third.entries_checked == logged + 5


def test_monitor_state_survives_a_round_trip_to_disk(client, logged, tmp_path) -> None:
    state, _ = monitor.monitor_log(flask_fetcher(client), None)
    path = tmp_path / "nested" / "state.json"
    monitor.save_state(path, state)
    assert monitor.load_state(path) == state
    assert monitor.load_state(tmp_path / "absent.json") is None
    broken = json.loads(path.read_text()) | {"root_hash": base64.b64encode(bytes(32)).decode()}
    path.write_text(json.dumps(broken))
    with pytest.raises(monitor.MonitorError, match="does not match its root"):
        monitor.load_state(path)
    path.write_text("{")
    with pytest.raises(monitor.MonitorError):
        monitor.load_state(path)


def test_monitor_command_that_cannot_save_its_state_is_an_error_not_an_alarm(
    app, client, logged, tmp_path, monkeypatch
) -> None:
    # Exit 1 means "the log misbehaved"; an unwritable state file is the check failing to run
    # (exit 2), told in one line, with no traceback and no temporary file left behind.
    from app.transparency import cli as log_cli

    monkeypatch.setattr(log_cli.client, "http_fetcher", lambda url, timeout: flask_fetcher(client))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = app.test_cli_runner().invoke(
        args=["log", "monitor", "http://log.example", "--state", str(blocker / "state.json")]
    )
    assert result.exit_code == 2, result.output
    assert "monitor error: cannot write the state file" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]

    state = tmp_path / "state.json"
    ok = app.test_cli_runner().invoke(
        args=["log", "monitor", "http://log.example", "--state", str(state)]
    )
    assert ok.exit_code == 0, ok.output
    assert monitor.load_state(state) is not None


@pytest.mark.parametrize("timeout", ["0", "-1", "soon"])
def test_monitor_command_refuses_a_timeout_that_is_not_positive(app, tmp_path, timeout) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "log",
            "monitor",
            "http://127.0.0.1:9",
            "--state",
            str(tmp_path / "state.json"),
            "--timeout",
            timeout,
        ]
    )
    assert result.exit_code == 2, result.output
    assert "--timeout" in result.output


def test_monitor_catches_a_rewritten_entry(client, session, logged) -> None:
    fetch = flask_fetcher(client)
    state, _ = monitor.monitor_log(fetch, None)
    index = logged - 2
    _forge_entry(session, index)
    for seen in (None, state):  # a new observer, and one re-auditing everything
        with pytest.raises(monitor.LogAlarm) as alarm:
            monitor.monitor_log(fetch, seen, audit_all=True)
        assert alarm.value.kind == "rewrite"
        assert f"entry {index} as served hashes to" in alarm.value.message
        assert b"fake-" in alarm.value.evidence["entry"].encode()


def test_monitor_catches_a_rewrite_covered_up_in_the_tiles(client, session, logged) -> None:
    fetch = flask_fetcher(client)
    index = logged - 2
    _, forged = _forge_entry(session, index)
    tamper(
        session,
        "log_nodes",
        "UPDATE log_nodes SET hash = :h WHERE level = 0 AND node_index = :i",
        h=merkle.leaf_hash(forged),
        i=index,
    )
    with pytest.raises(monitor.LogAlarm) as alarm:
        monitor.monitor_log(fetch, None)
    assert alarm.value.kind == "rewrite"
    assert "do not make the tree its checkpoint" in alarm.value.message


def test_monitor_catches_a_second_checkpoint_of_the_same_size(app, client, session, logged) -> None:
    fetch = flask_fetcher(client)
    state, _ = monitor.monitor_log(fetch, None)
    fork = fork_checkpoint(app, session, logged)
    with pytest.raises(monitor.LogAlarm) as alarm:
        monitor.monitor_log(fetch, state)
    assert alarm.value.kind == "fork"
    assert "two different checkpoints of size" in alarm.value.message
    assert alarm.value.evidence == {"previous_checkpoint": state.checkpoint, "checkpoint": fork}


def test_monitor_catches_a_split_view(app, client, session, logged) -> None:
    # The log showed this observer another history of the same length, signed with its key.
    signer = log_signer(app, session)
    other = merkle.RightEdge()
    other.append([merkle.leaf_hash(b"another history %d" % i) for i in range(logged - 3)])
    shown = monitor.MonitorState(
        vkey=format_verifier_key(signer.verifier()),
        size=other.size,
        root_hash=other.root(),
        checkpoint=sign_checkpoint(Checkpoint(signer.name, other.size, other.root()), signer),
        right_edge=other.hashes,
    )
    with pytest.raises(monitor.LogAlarm) as alarm:
        monitor.monitor_log(flask_fetcher(client), shown)
    assert alarm.value.kind == "fork"
    assert "does not extend" in alarm.value.message
    assert "consistency_proof" in alarm.value.evidence

    shrunk = monitor.MonitorState(
        vkey=shown.vkey, size=logged + 10, root_hash=bytes(32), checkpoint="...", right_edge=[]
    )
    with pytest.raises(monitor.LogAlarm, match="went back in time"):
        monitor.monitor_log(flask_fetcher(client), shrunk)


def test_monitor_catches_a_bad_signature(client, session, logged, demo) -> None:
    fetch = flask_fetcher(client)
    note = services.latest_checkpoint(session).note
    tamper(
        session,
        "log_checkpoints",
        "UPDATE log_checkpoints SET note = :n WHERE tree_size = :s",
        n=note.replace(f"\n{logged}\n", f"\n{logged - 1}\n"),
        s=logged,
    )
    with pytest.raises(monitor.LogAlarm) as alarm:
        monitor.monitor_log(fetch, None, vkey=demo["log"]["vkey"])
    assert alarm.value.kind == "bad-signature"


def test_monitor_refuses_a_key_other_than_the_pinned_one(client, logged) -> None:
    fetch = flask_fetcher(client)
    state, _ = monitor.monitor_log(fetch, None)
    impostor = NoteVerifier.from_public_key(
        "brand.example.test/log", Ed25519PrivateKey.generate().public_key()
    )
    with pytest.raises(monitor.MonitorError, match="differs from the key pinned"):
        monitor.monitor_log(fetch, state, vkey=format_verifier_key(impostor))
    with pytest.raises(monitor.LogAlarm) as alarm:
        monitor.monitor_log(fetch, None, vkey=format_verifier_key(impostor))
    assert alarm.value.kind == "bad-signature"


def test_monitor_explains_an_unreadable_log(logged) -> None:
    def fetch(path: str) -> bytes:
        raise monitor.MonitorError(f"GET {path}: HTTP 503")

    with pytest.raises(monitor.MonitorError, match="503"):
        monitor.monitor_log(fetch, None)
    with pytest.raises(monitor.MonitorError, match="not UTF-8"):
        monitor.monitor_log(lambda path: b"\xff\xfe", None)
    with pytest.raises(monitor.MonitorError, match="not an http"):
        monitor.http_fetcher("ftp://example.org")


def test_entries_checked_by_the_monitor_are_the_stored_ones(client, session, logged) -> None:
    # Sanity check of the oracle: what the monitor hashed is what the database holds.
    state, _ = monitor.monitor_log(flask_fetcher(client), None)
    leaves = [
        merkle.leaf_hash(e)
        for e in session.scalars(select(LogEntry.entry).order_by(LogEntry.log_index))
    ]
    assert state.root_hash == merkle.root_hash(leaves)
    assert (
        session.scalar(select(LogCheckpoint.root_hash).where(LogCheckpoint.tree_size == logged))
        == state.root_hash
    )
