"""Certificate issuance and verification against raw Ed25519, measured in one run on SQLite.

- issuance: certificates issued per second by ``issue_certificates`` (build the VC 2.0
  credential, canonicalise, sign, allocate numbers and random status bits, write the rows,
  the lifecycle events and the transparency-log entries, commit), in batches and one per
  transaction, against raw Ed25519 signatures per second (``cryptography``, 64-byte messages
  as eddsa-jcs-2022 signs). Target: batches >= 25% of the raw rate. The same batches are also
  timed with the transparency log's ``append_entry`` (issue 8) switched off, to show what this
  domain costs by itself.
- verification: credentials verified per second with every check (structure, issuer, key
  window, signature, validity, revocation and suspension bits in signed lists), the issuer's
  documents resolved once as a caching verifier (or ``python -m app.verify``) does, against
  raw Ed25519 verifications per second. Target: >= 40%. The service's ``verify_credential``,
  which rebuilds the documents from the database for every call, is reported alongside.

Each figure is the best of a few repetitions, raw and measured interleaved, so that a busy
machine skews both sides alike.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ISSUE_BATCHES = 4
BATCH = 250
SINGLE_COUNT = 100
SERVICE_COUNT = 100
RAW_COUNT = 5000
REPEAT = 3


def _best_rate(count: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


class _Raw:
    """Raw Ed25519 with ``cryptography``: the baselines."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.public = self.key.public_key()
        self.messages = [os.urandom(64) for _ in range(RAW_COUNT)]
        self.signatures = [self.key.sign(m) for m in self.messages]

    def sign_rate(self) -> float:
        return _best_rate(RAW_COUNT, lambda: [self.key.sign(m) for m in self.messages])

    def verify_rate(self) -> float:
        pairs = list(zip(self.signatures, self.messages, strict=True))
        return _best_rate(RAW_COUNT, lambda: [self.public.verify(s, m) for s, m in pairs])


def _app(folder: str) -> Any:
    from app import create_app

    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
            "ENV_NAME": "testing",
            "SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "BASE_URL": "https://brand.example.test",
            "KEY_DIR": folder,
            "PASSWORD_HASH_MEMORY_KIB": 64,
            "PASSWORD_HASH_TIME_COST": 1,
            "LOG_LEVEL": "WARNING",
        }
    )


def main() -> None:
    from alembic import command
    from sqlalchemy import select

    from app.audits.services import get_granted_decision
    from app.auth.models import Organisation
    from app.certificates import credentials, issuance, keys, ledger, verification
    from app.certificates.models import StatusList
    from app.certificates.verifier import OfflineResolver, Verifier
    from app.cli import alembic_config
    from app.db import utcnow
    from app.demo.seed import seed_demo
    from app.extensions import db

    raw = _Raw()
    with tempfile.TemporaryDirectory() as folder:
        app = _app(folder)
        with app.app_context():
            command.upgrade(alembic_config(), "head")
            session = db.new_session(writer=True)
            demo = seed_demo(session, app.config["BASE_URL"])
            session.commit()
            association = session.scalar(
                select(Organisation).where(Organisation.slug == "qimen-tea-association")
            )
            granted = get_granted_decision(session, demo["audit_decision"]["id"])
            now = utcnow()
            facts = issuance.facts_from_decision(
                session,
                granted,
                label_quota=10_000,
                valid_from=now,
                valid_until=now + timedelta(days=3 * 365),
            )
            issued: list[Any] = []

            def issue_batches() -> None:
                for _ in range(ISSUE_BATCHES):
                    issued.extend(
                        credentials.issue_certificates(session, association, [facts] * BATCH)
                    )
                    session.commit()

            def issue_singles() -> None:
                for _ in range(SINGLE_COUNT):
                    credentials.issue_certificates(session, association, [facts])
                    session.commit()

            raw_sign = raw.sign_rate()
            batch_rate = _best_rate(ISSUE_BATCHES * BATCH, issue_batches)
            raw_sign = max(raw_sign, raw.sign_rate())
            single_rate = _best_rate(SINGLE_COUNT, issue_singles)

            class _NoEntry:
                log_index = None

            appender = ledger.record_certificate_event
            ledger.record_certificate_event = lambda *_a, **_k: _NoEntry()  # type: ignore[assignment,misc]
            try:
                no_log_rate = _best_rate(ISSUE_BATCHES * BATCH, issue_batches)
            finally:
                ledger.record_certificate_event = appender  # type: ignore[method-assign]
            raw_sign = max(raw_sign, raw.sign_rate())

            documents = [json.loads(c.credential_json) for c in issued[: ISSUE_BATCHES * BATCH]]
            lists = [json.loads(s.credential_json) for s in session.scalars(select(StatusList))]
            did_document = keys.did_document(session, association)
            assert did_document is not None
            verifier = Verifier(OfflineResolver.from_documents([did_document], lists))
            assert {verifier.verify(d).verdict for d in documents} == {"valid"}
            raw_verify = raw.verify_rate()
            verify_rate = _best_rate(
                len(documents), lambda: [verifier.verify(d) for d in documents]
            )
            raw_verify = max(raw_verify, raw.verify_rate())
            service_docs = documents[:SERVICE_COUNT]
            service_rate = _best_rate(
                len(service_docs),
                lambda: [verification.verify_credential(session, d) for d in service_docs],
            )
            session.close()

    def line(label: str, rate: float, baseline: float | None = None) -> None:
        ratio = f"  ratio {rate / baseline:.3f}" if baseline else ""
        print(f"{label:48} {rate:9.0f} /s{ratio}")

    line("raw Ed25519 signing (cryptography)", raw_sign)
    line(f"issuance, batches of {BATCH} (all writes, log included)", batch_rate, raw_sign)
    line("issuance, one certificate per commit", single_rate, raw_sign)
    line(f"issuance, batches of {BATCH}, transparency log off", no_log_rate, raw_sign)
    line("raw Ed25519 verification (cryptography)", raw_verify)
    line("verification, every check (documents cached)", verify_rate, raw_verify)
    line("service verify_credential (documents from DB)", service_rate, raw_verify)
    issuance_ratio, verification_ratio = batch_rate / raw_sign, verify_rate / raw_verify
    print(
        f"targets: issuance >= 0.25: {'met' if issuance_ratio >= 0.25 else 'NOT met'} "
        f"({issuance_ratio:.3f}); verification >= 0.40: "
        f"{'met' if verification_ratio >= 0.40 else 'NOT met'} ({verification_ratio:.3f})"
    )


if __name__ == "__main__":
    main()
