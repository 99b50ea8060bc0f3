"""With real commits on a separate deployment: concurrent writers never get a gap or a
duplicate index, and the monitor, run over real HTTP, catches a rewritten entry and a fork."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.transparency import services
from app.transparency.audit import audit_log
from app.transparency.entry import EntryType
from app.transparency.models import LogCheckpoint, LogEntry
from tests.transparency.conftest import append, fork_checkpoint
from tests.transparency.test_audit import _forge_entry

WRITERS = 6
ROUNDS = 8


@pytest.mark.committing
def test_concurrent_writers_get_gap_free_unique_indices(deployment: Flask) -> None:
    committed: dict[str, int] = {}
    rolled_back: set[str] = set()
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        try:
            with deployment.app_context():
                start.wait()
                for round_ in range(ROUNDS):
                    session = db.new_session(writer=True)
                    try:
                        entries = [
                            services.append_entry(
                                session,
                                entry_type=EntryType.EPCIS_EVENT_CAPTURED,
                                record_type="epcis_event",
                                record_id=f"{number}-{round_}-{k}",
                                content={"writer": number, "round": round_, "k": k},
                                organisation_id=None,
                            )
                            for k in range(1 + (number + round_) % 3)
                        ]
                        time.sleep(0.002)  # hold the sequencer a moment: others must queue
                        ids = {entry.record_id: entry.log_index for entry in entries}
                        if (number + round_) % 4 == 3:
                            session.rollback()  # its indices must be handed out again
                            rolled_back.update(ids)
                        else:
                            session.commit()
                            committed.update(ids)
                    finally:
                        session.close()
        except BaseException as exc:  # reported below, with the thread's context
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert rolled_back and committed

    with deployment.app_context():
        session = db.new_session()
        try:
            rows = session.execute(
                select(LogEntry.log_index, LogEntry.record_id).order_by(LogEntry.log_index)
            ).all()
            # Index 0 is the log's own key, appended by whichever writer came first.
            assert [index for index, _ in rows] == list(range(len(rows)))
            assert dict((record, index) for index, record in rows[1:]) == committed
            assert not rolled_back & {record for _, record in rows}
            report = audit_log(session)
            assert report.ok, report.problems
            assert report.integrated_size == len(rows)
            # Every committed transaction signed and stored its own checkpoint.
            sizes = list(session.scalars(select(LogCheckpoint.tree_size)))
            assert len(sizes) == len(set(sizes)) >= WRITERS
        finally:
            session.close()


@pytest.fixture
def served(deployment: Flask) -> Iterator[str]:
    """The deployment served over HTTP on 127.0.0.1 by a real server in a thread."""
    server = make_server("127.0.0.1", 0, deployment, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _commit(deployment: Flask, work) -> None:
    with deployment.app_context():
        session = db.new_session(writer=True)
        try:
            work(session)
            session.commit()
        finally:
            session.close()


@pytest.mark.committing
def test_monitor_over_http_catches_a_rewritten_entry_and_a_fork(
    deployment: Flask, served: str, tmp_path
) -> None:
    state = str(tmp_path / "monitor.json")
    runner = deployment.test_cli_runner()

    def monitor(*extra: str):
        return runner.invoke(args=["log", "monitor", served, "--state", state, *extra])

    _commit(deployment, lambda session: append(session, 40))
    first = monitor()
    assert first.exit_code == 0, first.output
    assert "pinned the log key on first use" in first.output
    assert "size 0 -> 41, 41 entries checked" in first.output

    _commit(deployment, lambda session: append(session, 300))  # past a full tile
    second = monitor()
    assert second.exit_code == 0, second.output
    assert "size 41 -> 341, 300 entries checked" in second.output

    _commit(deployment, lambda session: _forge_entry(session, 7))
    # An incremental round reads only new entries; a full audit re-reads them all.
    assert monitor().exit_code == 0
    rewrite = monitor("--audit-all")
    assert rewrite.exit_code == 1
    assert "ALARM (rewrite): entry 7 as served hashes to" in rewrite.output
    assert "fake-" in rewrite.output  # the evidence: the rewritten entry itself
    verify = runner.invoke(args=["log", "verify"])
    assert verify.exit_code == 1
    assert "entry 7: its bytes hash to leaf" in verify.output

    _commit(deployment, lambda session: fork_checkpoint(deployment, session, 341))
    forked = monitor()
    assert forked.exit_code == 1
    assert "ALARM (fork): two different checkpoints of size 341" in forked.output

    unreachable = runner.invoke(
        args=["log", "monitor", "http://127.0.0.1:9", "--state", str(tmp_path / "new.json")]
    )
    assert unreachable.exit_code == 2
    assert "monitor error" in unreachable.output


@pytest.mark.committing
def test_the_first_entries_of_a_new_log_follow_its_key(deployment: Flask) -> None:
    def first_batch(session) -> None:
        entries = services.append_entries(
            session,
            [
                services.NewEntry(EntryType.KEY_ADDED, "issuer_key", i, b"key", None)
                for i in range(3)
            ],
        )
        assert [entry.log_index for entry in entries] == [1, 2, 3]

    _commit(deployment, first_batch)
    with deployment.app_context():
        session = db.new_session()
        try:
            types = list(session.scalars(select(LogEntry.record_type).order_by(LogEntry.log_index)))
            assert types == ["log_key", "issuer_key", "issuer_key", "issuer_key"]
            assert services.latest_checkpoint(session).tree_size == 4
            assert audit_log(session).ok
        finally:
            session.close()
