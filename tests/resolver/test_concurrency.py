"""Floods of concurrent scans and double-submitted reports, with real commits: no scan is lost
or counted twice, no report is stored twice (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, select

from app.db import utcnow
from app.extensions import db
from app.products.models import UnitCode
from app.resolver.models import FakeReport, Scan, ScanAlert, ScanShopper, ScanTally
from tests.resolver.conftest import Shopper

pytestmark = pytest.mark.committing
THREADS = 8
SCANS_PER_THREAD = 5


def _cleanup(app, unit_key: str, submission_key: str | None = None) -> None:
    with app.app_context():
        session = db.new_session(writer=True)
        session.execute(delete(Scan).where(Scan.unit_key == unit_key))
        session.execute(delete(ScanTally).where(ScanTally.unit_key == unit_key))
        session.execute(delete(ScanShopper).where(ScanShopper.unit_key == unit_key))
        session.execute(delete(ScanAlert).where(ScanAlert.unit_key == unit_key))
        if submission_key:
            session.execute(delete(FakeReport).where(FakeReport.submission_key == submission_key))
        session.commit()
        session.close()


def _spare_unit(app, demo) -> tuple[str, str]:
    """A demo serial no other test scans (the last of the active order)."""
    with app.app_context():
        session = db.new_session()
        serial = session.scalar(
            select(UnitCode.serial)
            .where(
                UnitCode.order_id == demo["label_order"]["id"], UnitCode.blacklisted_at.is_(None)
            )
            .order_by(UnitCode.id.desc())
            .offset(1)
            .limit(1)
        )
        session.close()
    gtin, lot = demo["product"]["gtin"], demo["batch"]["lot"]
    return f"/01/{gtin}/10/{lot}/21/{serial}", f"01/{gtin}/21/{serial}"


def test_concurrent_scans_are_all_stored_and_counted_once(app, demo) -> None:
    path, unit_key = _spare_unit(app, demo)
    shoppers = [Shopper(app, f"flood {i}") for i in range(THREADS)]

    def scan(shopper: Shopper) -> list[int]:
        statuses = []
        for _ in range(SCANS_PER_THREAD):
            statuses.append(shopper.get(path).status_code)
        return statuses

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(scan, shoppers))
        assert all(status == 200 for statuses in results for status in statuses), results
        with app.app_context():
            session = db.new_session()
            scans = session.scalars(select(Scan).where(Scan.unit_key == unit_key)).all()
            tally = session.get(ScanTally, unit_key)
            session.close()
        assert len(scans) == THREADS * SCANS_PER_THREAD  # every scan stored
        # Each shopper's quick reloads are one verification: one counted scan per shopper.
        assert tally.shopper_count == THREADS
        assert tally.scan_count == THREADS == sum(not scan.is_repeat for scan in scans)
    finally:
        _cleanup(app, unit_key)


def test_a_double_submitted_report_is_stored_once(app, demo) -> None:
    key = "concurrent-double-submit-0001"
    shoppers = [Shopper(app, f"reporter {i}") for i in range(4)]

    def submit(shopper: Shopper) -> int:
        response = shopper.post(
            "/report",
            data={"description": "same form", "submission_key": key},
            accept="application/json",
        )
        return response.status_code

    try:
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(submit, shoppers))
        assert sorted(statuses) == [200, 200, 200, 201] or statuses.count(201) == 1, statuses
        with app.app_context():
            session = db.new_session()
            count = len(
                session.scalars(select(FakeReport).where(FakeReport.submission_key == key)).all()
            )
            session.close()
        assert count == 1
    finally:
        _cleanup(app, "none", key)


@pytest.mark.parametrize("through", ["portal", "api"])
def test_concurrent_resolves_of_one_alert_record_it_once(app, demo, through) -> None:
    """Two people (or one double click) resolving the same alert at the same moment, in the
    portal or through the API: the alert's row is locked, so one resolution is recorded and the
    other is told it came too late."""
    import threading

    from app.activity.models import ActivityRecord
    from app.resolver.models import AlertKind, AlertStatus
    from tests.portalkit import as_role, csrf

    unit_key = "01/06923456789012/21/CONCURRENT-RESOLVE"
    with app.app_context():
        session = db.new_session(writer=True)
        brand_alert = session.scalar(select(ScanAlert).order_by(ScanAlert.id))
        alert = ScanAlert(
            kind=AlertKind.REPEAT_SCANS,
            status=AlertStatus.OPEN,
            open_key=f"test:{unit_key}",
            gtin="06923456789012",
            serial="CONCURRENT-RESOLVE",
            unit_key=unit_key,
            product_id=brand_alert.product_id,
            brand_id=brand_alert.brand_id,
            firm_id=brand_alert.firm_id,
            association_id=brand_alert.association_id,
            details={"shoppers": 25, "threshold": 20},
        )
        session.add(alert)
        session.commit()
        alert_id = alert.id
        session.close()
    roles = ["association_staff", "association_admin"]
    if through == "portal":
        clients = [as_role(app, demo, role) for role in roles]
        forms = [
            {"csrf_token": csrf(c), "resolution": "false_alarm", "note": f"by {i}"}
            for i, c in enumerate(clients)
        ]
    start = threading.Barrier(len(roles))

    def resolve(index: int) -> int:
        start.wait()
        if through == "api":
            response = app.test_client().post(
                f"/api/v1/scan-alerts/{alert_id}/resolve",
                json={"resolution": "false_alarm", "note": f"by {index}"},
                headers={"Authorization": f"Bearer {demo['tokens'][roles[index]]}"},
            )
        else:
            response = clients[index].post(
                f"/portal/scan-alerts/{alert_id}/resolve",
                data=forms[index],
                headers={"Accept": "text/html"},
            )
        return response.status_code

    started = utcnow()
    try:
        with ThreadPoolExecutor(len(roles)) as pool:
            statuses = sorted(pool.map(resolve, range(len(roles))))
        assert statuses == ([200, 409] if through == "api" else [303, 409]), statuses
        with app.app_context():
            session = db.new_session()
            stored = session.get(ScanAlert, alert_id)
            records = session.scalars(
                select(ActivityRecord).where(
                    ActivityRecord.target == f"scan_alert:{alert_id}",
                    ActivityRecord.method == "POST",
                    # Ids of deleted rows come back on SQLite; the trail is append-only.
                    ActivityRecord.occurred_at >= started,
                )
            ).all()
            session.close()
        assert stored.status is AlertStatus.RESOLVED and stored.resolution_note in ("by 0", "by 1")
        assert [r.status for r in records] == [200 if through == "api" else 303]
    finally:
        _cleanup(app, unit_key)
