"""Holds and recalls of batches: who may place and lift them, and how far they reach."""

from __future__ import annotations

import pytest

from app.trace.recalls import is_recalled, recall_notices
from tests.trace.conftest import capture, register_units
from tests.trace.factories import (
    CASE,
    LEAF_GTIN,
    LEAF_LOT,
    TEA_GTIN,
    TEA_LOT,
    batch,
    canonical_unit,
    document,
    journey_events,
    processing,
)


@pytest.fixture
def captured(api, trace) -> None:
    response = capture(api("firm_admin"), document(*journey_events()))
    assert response.status_code == 202, response.get_json()


pytestmark = pytest.mark.usefixtures("captured")


def _recall(client, batch_id: int, kind: str = "recall", reason: str = "pesticide residue"):
    return client.post(
        "/api/v1/trace/recalls", json={"batch_id": batch_id, "kind": kind, "reason": reason}
    )


def test_a_recall_needs_a_reason_not_spaces(api, trace) -> None:
    response = _recall(api("firm_admin"), trace.batches["leaf"], reason="   ")
    assert response.status_code == 422
    assert api("firm_admin").get("/api/v1/trace/recalls").get_json()["items"] == []


def test_a_recall_of_an_input_lot_reaches_the_units_made_from_it(api, session, trace) -> None:
    register_units(session, trace.batches["tea"], ["U1", "U2", "U3"])
    response = _recall(api("firm_admin"), trace.batches["leaf"])
    assert response.status_code == 201, response.get_json()
    recall = response.get_json()
    assert (recall["gtin"], recall["lot"], recall["status"]) == (LEAF_GTIN, LEAF_LOT, "active")
    affected = recall["affected"]
    assert [(b["gtin"], b["lot"], b["registered_units"]) for b in affected["batches"]] == [
        (LEAF_GTIN, LEAF_LOT, 0),
        (TEA_GTIN, TEA_LOT, 3),
    ]
    assert affected["units"] == [canonical_unit("U1"), canonical_unit("U2")]
    assert affected["containers"] == [CASE]
    assert affected["registered_units"] == 3
    # The consumer resolver's question, for a unit made from the recalled leaf.
    notice = is_recalled(session, TEA_GTIN, serial="U1")
    assert notice is not None
    assert (notice.kind, notice.gtin, notice.lot, notice.is_own_batch) == (
        "recall",
        LEAF_GTIN,
        LEAF_LOT,
        False,
    )
    # A registered unit that no event names is reached through its batch.
    assert is_recalled(session, TEA_GTIN, serial="U3") is not None
    assert is_recalled(session, TEA_GTIN, lot=TEA_LOT) is not None
    # Journeys say so too.
    journey = api("firm_admin").get(
        "/api/v1/trace/journey", query_string={"epc": canonical_unit("U1")}
    )
    assert [r["lot"] for r in journey.get_json()["recalls"]] == [LEAF_LOT]


def test_units_of_other_lots_are_not_affected(api, session, trace) -> None:
    other = processing(time="2026-04-04T15:00:00+08:00", leaf_lot="LEAF2026Z", tea_lot="HT2026Z")
    other["outputEPCList"] = []
    capture(api("firm_admin"), document(other))
    _recall(api("firm_admin"), trace.batches["leaf"])
    assert is_recalled(session, TEA_GTIN, lot="HT2026Z") is None
    assert is_recalled(session, TEA_GTIN, serial="U9") is None


def test_nothing_is_recalled_without_active_recalls(session) -> None:
    assert recall_notices(session, TEA_GTIN, serial="U1") == []


def test_a_hold_and_a_recall_and_lifting(api, session, trace) -> None:
    firm = api("firm_admin")
    hold = _recall(firm, trace.batches["tea"], "hold", "customer complaint").get_json()
    assert is_recalled(session, TEA_GTIN, serial="U1").kind == "hold"
    assert is_recalled(session, TEA_GTIN, serial="U1").is_own_batch
    duplicate = _recall(firm, trace.batches["tea"], "hold")
    assert duplicate.status_code == 409
    assert duplicate.get_json()["type"].endswith("/recall-conflict")
    recall = _recall(firm, trace.batches["tea"], "recall").get_json()
    assert is_recalled(session, TEA_GTIN, serial="U1").kind == "recall"  # recall before hold
    lifted = firm.post(
        f"/api/v1/trace/recalls/{recall['id']}/lift", json={"reason": "lab retest clean"}
    )
    assert lifted.status_code == 200
    assert lifted.get_json()["status"] == "lifted"
    assert lifted.get_json()["lift_reason"] == "lab retest clean"
    again = firm.post(f"/api/v1/trace/recalls/{recall['id']}/lift", json={"reason": "again"})
    assert again.status_code == 409
    assert is_recalled(session, TEA_GTIN, serial="U1").kind == "hold"
    listed = firm.get("/api/v1/trace/recalls", query_string={"status": "active"}).get_json()
    assert [item["id"] for item in listed["items"]] == [hold["id"]]


def test_who_may_place_see_and_lift(api, trace) -> None:
    # Another firm's batch does not exist for you.
    assert _recall(api("firm2_admin"), trace.batches["tea"]).status_code == 404
    assert _recall(api("firm_admin"), trace.batches["other"]).status_code == 404
    # The association recalls a member's batch; the firm sees it but cannot lift it.
    placed = _recall(api("association_staff"), trace.batches["tea"])
    assert placed.status_code == 201, placed.get_json()
    recall_id = placed.get_json()["id"]
    assert placed.get_json()["placed_by"] == "qimen-tea-association"
    assert api("firm_admin").get(f"/api/v1/trace/recalls/{recall_id}").status_code == 200
    refused = api("firm_admin").post(
        f"/api/v1/trace/recalls/{recall_id}/lift", json={"reason": "no"}
    )
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/recall-placed-by-association")
    assert api("firm2_admin").get(f"/api/v1/trace/recalls/{recall_id}").status_code == 404
    assert api("firm2_admin").get("/api/v1/trace/recalls").get_json()["items"] == []
    assert len(api("government_viewer").get("/api/v1/trace/recalls").get_json()["items"]) == 1
    lifted = api("association_admin").post(
        f"/api/v1/trace/recalls/{recall_id}/lift", json={"reason": "cleared"}
    )
    assert lifted.status_code == 200


def test_bad_recall_requests(api) -> None:
    firm = api("firm_admin")
    assert (
        firm.post(
            "/api/v1/trace/recalls", json={"batch_id": 1, "kind": "ban", "reason": "x"}
        ).status_code
        == 422
    )
    missing = firm.post("/api/v1/trace/recalls", json={"batch_id": 1, "kind": "hold"})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.get_json()["errors"]} == {"/reason"}
    assert _recall(firm, 999_999).status_code == 404
    assert firm.get("/api/v1/trace/recalls/999999").status_code == 404
    _ = batch
