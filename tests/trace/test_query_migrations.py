"""Migrations 0120 and 0130 fill in the business transactions, sources, destinations and error
declarations of the events stored before them, so that EQ_bizTransaction_<type> (and source,
destination), EXISTS_errorDeclaration and EQ_errorReason find them."""

from __future__ import annotations

from pathlib import Path

from alembic import command

from app.cli import alembic_config
from tests.conftest import ApiClient, fresh_database, migrate_and_seed, other_app
from tests.trace.factories import document

PO = "urn:epcglobal:cbv:bt:6901234560015:PO-9"


def _event() -> dict:
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-03-30T10:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "epcList": [],
        "readPoint": {"id": "https://dock.example.com/1"},
        "bizTransactionList": [{"type": "po", "bizTransaction": PO}],
        "destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:690999888.100.0"}],
    }


def _found(client: ApiClient, **params: str) -> int:
    response = client.get("/epcis/events", query_string=params)
    assert response.status_code == 200, response.get_json()
    return len(response.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def test_events_stored_before_the_migration_are_found(tmp_path: Path, key_dir: Path) -> None:
    with fresh_database(tmp_path, "references") as url, other_app(url, key_dir) as scratch:
        demo = migrate_and_seed(scratch)
        firm = ApiClient(scratch.test_client(), demo["tokens"]["firm_admin"])
        declared = {
            **_event(),
            "errorDeclaration": {
                "declarationTime": "2026-04-01T00:00:00Z",
                "reason": "did_not_occur",
            },
        }
        for event in (_event(), declared):
            assert firm.post("/epcis/capture", json=document(event)).status_code == 202
        with scratch.app_context():
            command.downgrade(alembic_config(), "0110_ended_sessions")
            command.upgrade(alembic_config(), "head")
        assert _found(firm, EQ_bizTransaction_po=PO) == 1
        location = "https://id.gs1.org/414/6909998881001"
        assert _found(firm, EQ_destination_location=location) == 1
        assert _found(firm, EQ_bizTransaction_inv=PO) == 0
        assert _found(firm, EXISTS_errorDeclaration="", EQ_errorReason="did_not_occur") == 1
        assert _found(firm, GE_errorDeclarationTime="2026-04-01T00:00:01Z") == 0
