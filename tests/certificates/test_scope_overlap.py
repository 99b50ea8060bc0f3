"""A product is covered by at most one live certificate of a decision, whichever way the
certificate came about: issued, re-issued with a changed scope, or renewed."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audits.models import AuditKind
from app.certificates.models import Certificate, StatusList
from app.transparency.models import LogEntry

TEA = "06923456789012"
GIFT_BOX = "06923456789029"


def _state(session) -> tuple:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Certificate)),
        tuple(session.scalars(select(StatusList.etag).order_by(StatusList.id))),
        session.scalar(select(func.count()).select_from(LogEntry)),
    )


def _refused(response, number: str) -> dict:
    assert response.status_code == 409, response.get_data(as_text=True)
    body = response.get_json()
    assert body["type"].endswith("/problems/decision-already-certified")
    assert body["certificates"] == [number]
    return body


def test_a_reissue_cannot_widen_into_another_live_certificate_of_its_decision(
    api, grant, session
) -> None:
    decision_id = grant()
    admin = api("association_admin")
    tea = admin.post(
        "/api/v1/certificates", json={"decision_id": decision_id, "label_quota": 10, "gtins": [TEA]}
    ).get_json()
    box = admin.post(
        "/api/v1/certificates",
        json={"decision_id": decision_id, "label_quota": 10, "gtins": [GIFT_BOX]},
    ).get_json()
    before = _state(session)

    body = _refused(
        admin.post(
            f"/api/v1/certificates/{tea['number']}/reissue",
            # The 13-digit form is the same product.
            json={"gtins": [TEA, GIFT_BOX[1:]], "reason": "add the gift box"},
        ),
        box["number"],
    )
    assert body["errors"] == [
        {
            "field": "/gtins",
            "rule": "already_certified",
            "message": f"{GIFT_BOX} is in {box['number']}",
        }
    ]
    assert _state(session) == before
    assert admin.get(f"/api/v1/certificates/{tea['number']}").get_json()["status"] == "active"

    # Its own products do not count against it: the old certificate is replaced.
    same = admin.post(
        f"/api/v1/certificates/{tea['number']}/reissue",
        json={"gtins": [TEA[1:]], "label_quota": 20, "reason": "bigger quota"},
    )
    assert same.status_code == 201, same.get_data(as_text=True)
    assert same.get_json()["gtins"] == [TEA]


def test_two_certificates_cannot_be_renewed_onto_the_same_products(api, grant, session) -> None:
    first_decision = grant()
    admin = api("association_admin")
    tea = admin.post(
        "/api/v1/certificates",
        json={"decision_id": first_decision, "label_quota": 10, "gtins": [TEA]},
    ).get_json()
    box = admin.post(
        "/api/v1/certificates",
        json={"decision_id": first_decision, "label_quota": 10, "gtins": [GIFT_BOX]},
    ).get_json()
    renewal = grant(kind=AuditKind.RENEWAL)
    # The renewal decision audited both products; the first renewal covers both.
    renewed = admin.post(
        f"/api/v1/certificates/{tea['number']}/renew", json={"decision_id": renewal}
    )
    assert renewed.status_code == 201, renewed.get_data(as_text=True)
    before = _state(session)
    _refused(
        admin.post(f"/api/v1/certificates/{box['number']}/renew", json={"decision_id": renewal}),
        renewed.get_json()["number"],
    )
    assert _state(session) == before
    assert admin.get(f"/api/v1/certificates/{box['number']}").get_json()["status"] == "active"
