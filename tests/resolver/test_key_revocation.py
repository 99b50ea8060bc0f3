"""Scans after the association revokes a signing key: a certificate signed by the key from its
revocation instant on makes its units NOT_VALID (from the very next scan, caches or not) until
it is re-issued; a label signed at or after its key's revocation instant is refused online
as the offline verifier refuses it, while one the register shows was signed before that instant
is genuine with a warning (its printed signature fails offline); a certificate signed before
the revocation instant keeps its units genuine."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.certificates import credentials, keys
from app.certificates.models import Certificate
from app.db import utcnow
from app.products import services
from app.products.models import LabelOrder, UnitCode
from app.verify import main as verify_main
from tests.products.factories import caller, make_batch, organisation
from tests.resolver.conftest import BROWSER

ASSOCIATION = "qimen-tea-association"


class Clock:
    """Moves the certificates services' clock (issuance, keys, status lists) by an offset."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = timedelta(0)
        for module in ("keys", "status", "credentials", "issuance"):
            monkeypatch.setattr(f"app.certificates.{module}.utcnow", self.now)

    def now(self) -> datetime:
        return utcnow() + self.offset


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def active_order(session, clock: Clock, *, signed: bool, certified_ago: timedelta) -> LabelOrder:
    """Active labels (signed now when ``signed``) under a certificate signed ``certified_ago``
    by a key that came into use just then (a key is revoked from its first instant at the
    earliest)."""
    firm = caller(session)
    clock.offset = -certified_ago
    keys.rotate_key(session, organisation(session, ASSOCIATION))
    batch = make_batch(session, firm)
    clock.offset = timedelta(0)
    order = services.order_labels(session, firm, batch.id, quantity=2, signed=signed)
    services.approve_order(session, caller(session, "staff@qimen-tea.example"), order.id)
    services.mark_printed(session, firm, order.id)
    services.activate_order(session, firm, order.id)
    session.commit()
    return order


def unit_path(session, order: LabelOrder, *, with_signature: bool = True) -> str:
    unit = session.scalar(select(UnitCode).where(UnitCode.order_id == order.id).limit(1))
    path = f"/01/{order.batch.product.gtin}/10/{order.batch.lot}/21/{unit.serial}"
    return path + (f"?sig={unit.signature}" if with_signature and unit.signature else "")


def certificate_of(session, order: LabelOrder) -> Certificate:
    return session.get(Certificate, order.certificate_id)


def revoke(session, fragment: str, revoked_from: datetime) -> None:
    keys.revoke_key(
        session,
        organisation(session, ASSOCIATION),
        fragment,
        revoked_from=revoked_from,
        reason="private key leaked",
    )
    session.commit()


def scan(shopper, path: str) -> dict[str, Any]:
    response = shopper.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def test_a_certificate_signed_by_a_revoked_key_is_not_valid_from_the_next_scan_until_re_issued(
    session, new_shopper, clock
) -> None:
    order = active_order(session, clock, signed=False, certified_ago=timedelta(hours=1))
    path = unit_path(session, order)
    certificate = certificate_of(session, order)
    assert scan(new_shopper(), path)["verdict"] == "GENUINE"  # and its standing is cached

    revoke(session, certificate.issuer_key.fragment, credentials.proof_created(certificate))
    body = scan(new_shopper(), path)
    assert body["verdict"] == "NOT_VALID"
    assert body["certificate"]["in_force"] is False
    [reason] = body["reasons"]
    assert reason["code"] == "certificate_key_revoked" and reason["number"] == certificate.number
    assert "can no longer be trusted" in reason["message"]
    assert "must re-issue" in reason["message"]
    chinese = new_shopper().get(path, **{"Accept-Language": "zh-CN"}).get_json()
    assert "签名已不再可信" in chinese["reasons"][0]["message"]

    association_admin = caller(session, "admin@qimen-tea.example")
    renewed = credentials.reissue_certificate(
        session,
        association_admin,
        certificate.number,
        gtins=None,
        sites=None,
        label_quota=None,
        reason="re-issued with the new key",
    )
    session.commit()
    assert renewed.issuer_key.revoked_at is None
    body = scan(new_shopper(), path)
    assert body["verdict"] == "GENUINE", body["reasons"]
    assert body["certificate"]["number"] == renewed.number


def test_a_key_revoked_from_after_the_certificates_signature_keeps_its_units_genuine(
    session, new_shopper, clock
) -> None:
    order = active_order(session, clock, signed=False, certified_ago=timedelta(hours=2))
    certificate = certificate_of(session, order)
    revoke(session, certificate.issuer_key.fragment, utcnow() - timedelta(hours=1))
    assert scan(new_shopper(), unit_path(session, order))["verdict"] == "GENUINE"


def test_a_label_signed_by_a_revoked_key_fails_online_as_it_fails_offline(
    session, new_shopper, clock, client, tmp_path
) -> None:
    # The certificate was signed two hours ago, before the revocation instant: it stays in force.
    order = active_order(session, clock, signed=True, certified_ago=timedelta(hours=2))
    certificate = certificate_of(session, order)
    fragment = certificate.issuer_key.fragment
    assert order.signing_key_id.endswith("#" + fragment)
    path = unit_path(session, order)
    did = tmp_path / "did.json"

    def offline() -> int:
        did.write_text(json.dumps(client.get(f"/orgs/{ASSOCIATION}/did.json").get_json()))
        return verify_main(["--label", "https://brand.example.test" + path, "--did", str(did)])

    assert offline() == 0
    assert scan(new_shopper(), path)["verdict"] == "GENUINE"

    revoke(session, fragment, utcnow() - timedelta(hours=1))
    assert offline() == 1
    body = scan(new_shopper(), path)
    assert body["verdict"] == "NOT_VALID"
    assert [reason["code"] for reason in body["reasons"]] == ["label_key_revoked"]
    assert "can no longer be trusted" in body["reasons"][0]["message"]
    assert body["certificate"]["in_force"] is True  # the certificate itself is not in question


def test_a_label_signed_by_a_revoked_key_is_not_valid_whether_or_not_the_link_carries_sig(
    session, new_shopper, clock
) -> None:
    # Labels signed now, by a key revoked from an hour ago (before their signing): the label
    # printed with the signature, and the same link typed or shared without it, name one pack
    # and get one verdict.
    order = active_order(session, clock, signed=True, certified_ago=timedelta(hours=2))
    signed = unit_path(session, order)
    bare = unit_path(session, order, with_signature=False)
    assert "?sig=" in signed and "?" not in bare
    assert scan(new_shopper(), bare)["verdict"] == "GENUINE"  # facts and standing now cached

    revoke(
        session, certificate_of(session, order).issuer_key.fragment, utcnow() - timedelta(hours=1)
    )
    for path in (bare, signed):
        body = scan(new_shopper(), path)
        assert body["verdict"] == "NOT_VALID", path
        assert [reason["code"] for reason in body["reasons"]] == ["label_key_revoked"]
        assert body["certificate"]["in_force"] is True
    page = new_shopper().get("/verify" + bare, accept=BROWSER, **{"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-reason="label_key_revoked"' in text
    assert "The signature printed on this label can no longer be trusted" in text
    chinese = new_shopper().get(bare, **{"Accept-Language": "zh-CN"}).get_json()
    assert chinese["verdict"] == "NOT_VALID"
    assert "签名已不再可信" in chinese["reasons"][0]["message"]


def test_a_label_signed_before_its_key_was_revoked_stays_genuine_with_a_warning(
    session, new_shopper, clock, client, tmp_path, capsys
) -> None:
    # The key is revoked from a moment after the labels were issued (the register and the
    # transparency log say when): the packs are genuine, but the printed signature, which
    # carries no time, now fails offline, and the shopper is told why.
    order = active_order(session, clock, signed=True, certified_ago=timedelta(hours=2))
    signed = unit_path(session, order)
    bare = unit_path(session, order, with_signature=False)
    assert scan(new_shopper(), signed)["verdict"] == "GENUINE"
    # Issued two seconds ago: revocations count in whole seconds, as proofs' times do.
    assert order.issued_at is not None
    order.issued_at -= timedelta(seconds=2)
    session.commit()
    revoked_from = utcnow()
    revoke(session, certificate_of(session, order).issuer_key.fragment, revoked_from)
    for path in (bare, signed):
        body = scan(new_shopper(), path)
        assert body["verdict"] == "GENUINE_WITH_WARNING", (path, body["reasons"])
        assert [reason["code"] for reason in body["reasons"]] == ["label_key_revoked_after_issue"]
        assert body["certificate"]["in_force"] is True
    did = tmp_path / "did.json"
    did.write_text(json.dumps(client.get(f"/orgs/{ASSOCIATION}/did.json").get_json()))
    capsys.readouterr()
    assert verify_main(["--label", "https://brand.example.test" + signed, "--did", str(did)]) == 1
    assert "may still be genuine: check it online" in capsys.readouterr().out
    page = new_shopper().get("/verify" + bare, accept=BROWSER, **{"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert 'data-reason="label_key_revoked_after_issue"' in text
    assert "apps that check the printed signature offline will reject it" in text
    chinese = new_shopper().get(bare, **{"Accept-Language": "zh-CN"}).get_json()
    assert "离线" in chinese["reasons"][0]["message"]


def test_a_bare_link_to_an_unsigned_label_is_not_judged_by_a_revoked_key(
    session, new_shopper, clock
) -> None:
    # Unsigned labels carry no signature: a revoked key does not touch them (only their
    # certificate's own signature counts, which predates the revocation here).
    order = active_order(session, clock, signed=False, certified_ago=timedelta(hours=2))
    revoke(session, certificate_of(session, order).issuer_key.fragment, utcnow())
    body = scan(new_shopper(), unit_path(session, order, with_signature=False))
    assert body["verdict"] == "GENUINE", body["reasons"]
