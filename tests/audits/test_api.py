"""Audits API: the bad input of the issue (auditing against a draft, values outside a
criterion's type, deciding on one's own audit, uploads), maker-checker, who sees what, and the
surveillance schedule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audits import services
from app.audits.models import AuditDecision
from app.files.models import StoredFile
from tests.brandkit import (
    GOOD_RESULTS,
    audit_body,
    ok,
    other_association,
    pdf_report,
    problem,
    published_brand,
    rules,
    signed_off_audit,
    upload,
    version_body,
)

SLUG = "huangshan-maofeng"


@pytest.fixture
def world(api) -> dict:
    return published_brand(api, SLUG)


@pytest.fixture
def audit(api, world) -> dict:
    return ok(
        api("association_auditor").post("/api/v1/audits", json=audit_body(world["version"]["id"])),
        201,
    )


def test_auditing_against_a_draft_or_superseded_version_is_refused(api, world) -> None:
    admin, auditor = api("association_admin"), api("association_auditor")
    draft = ok(
        admin.post(
            f"/api/v1/standards/{world['standard']['id']}/versions", json=version_body("2.0")
        ),
        201,
    )
    refused = problem(
        auditor.post("/api/v1/audits", json=audit_body(draft["id"])),
        409,
        "standard-version-not-published",
    )
    assert rules(refused) == {("/standard_version_id", "published_only")}
    ok(admin.post(f"/api/v1/standard-versions/{draft['id']}/publish"))
    old = problem(
        auditor.post("/api/v1/audits", json=audit_body(world["version"]["id"])),
        409,
        "standard-version-not-published",
    )
    assert rules(old) == {("/standard_version_id", "current_version")}
    # Surveillance of a certification made against the superseded version is still allowed.
    ok(
        auditor.post(
            "/api/v1/audits", json=audit_body(world["version"]["id"], kind="surveillance")
        ),
        201,
    )


def test_only_members_are_audited_against_their_brand_s_standards(api, world, demo) -> None:
    auditor = api("association_auditor")
    not_member = problem(
        auditor.post(
            "/api/v1/audits", json=audit_body(world["version"]["id"], firm="shanyuan-tea")
        ),
        409,
        "firm-not-a-member",
    )
    assert rules(not_member) == {("/firm", "approved_member")}
    other_brand = auditor.post("/api/v1/audits", json=audit_body(demo["standard"]["version_id"]))
    assert rules(problem(other_brand, 404, "not-found")) == {("/standard_version_id", "exists")}
    problem(
        auditor.post("/api/v1/audits", json=audit_body(world["version"]["id"], firm="nobody")),
        404,
        "not-found",
    )


def test_scope_gtins_and_glns_are_checked(api, world) -> None:
    body = audit_body(world["version"]["id"])
    body["products"] = [
        {"gtin": "6923456789013", "name_zh": "a", "name_en": "a"},
        {"gtin": "6923456789012", "name_zh": "b", "name_en": "b"},
        {"gtin": "06923456789012", "name_zh": "c", "name_en": "c"},
    ]
    body["sites"][0]["gln"] = "123"
    refused = problem(
        api("association_auditor").post("/api/v1/audits", json=body), 422, "invalid-audit-scope"
    )
    assert rules(refused) == {
        ("/products/0/gtin", "check_digit"),
        ("/products/2/gtin", "unique"),
        ("/sites/0/gln", "length"),
    }


def test_values_outside_a_criterion_s_type_are_refused_and_nothing_is_recorded(api, audit) -> None:
    auditor = api("association_auditor")
    path = f"/api/v1/audits/{audit['id']}/results"
    response = auditor.put(
        path,
        json={
            "results": [
                {"criterion": "moisture", "value": "dry"},
                {"criterion": "origin", "value": 3},
                {"criterion": "pesticides", "value": 1},
                {"criterion": "water_extract", "value": True},
                {"criterion": "colour", "value": 1},
                {"criterion": "caffeine", "value": 3.0},
            ]
        },
    )
    assert rules(problem(response, 422, "invalid-measurement")) == {
        ("/results/0/value", "value_type_number"),
        ("/results/1/value", "value_type_choice"),
        ("/results/2/value", "value_type_boolean"),
        ("/results/3/value", "value_type_number"),
        ("/results/4/criterion", "criterion_exists"),
    }
    assert ok(auditor.get(f"/api/v1/audits/{audit['id']}"))["measurements"] == []


def test_pass_fail_follows_comparators_thresholds_and_allowed_values(api, audit) -> None:
    results = [
        {"criterion": "moisture", "value": 7.0},  # le 7: passes at the threshold
        {"criterion": "water_extract", "value": 33.9},  # ge 34: fails
        {"criterion": "caffeine", "value": 5.1},  # between 2 and 5: fails, optional
        {"criterion": "origin", "value": "歙县"},  # not an allowed value: fails
        {"criterion": "pesticides", "value": False},  # a finding of non-compliance
    ]
    body = ok(
        api("association_auditor").put(
            f"/api/v1/audits/{audit['id']}/results", json={"results": results}
        )
    )
    passed = {m["criterion"]: m["passed"] for m in body["measurements"]}
    assert passed == {
        "moisture": True,
        "water_extract": False,
        "caffeine": False,
        "origin": False,
        "pesticides": False,
    }
    requirement = {m["criterion"]: m["requirement"] for m in body["measurements"]}
    assert requirement["moisture"] == "≤ 7 %" and requirement["caffeine"] == "2–5 %"
    # Correcting a value recomputes its result.
    fixed = ok(
        api("association_auditor").put(
            f"/api/v1/audits/{audit['id']}/results",
            json={"results": [{"criterion": "water_extract", "value": 34}]},
        )
    )
    assert {m["criterion"]: m["passed"] for m in fixed["measurements"]}["water_extract"] is True


def test_overall_result_ignores_failed_optional_criteria(api, world) -> None:
    results = [dict(r) for r in GOOD_RESULTS]
    results[2]["value"] = 9.9  # caffeine, not mandatory
    signed = signed_off_audit(api, world["version"]["id"], results=results)
    assert signed["overall_result"] == "pass"


def test_sign_off_needs_every_mandatory_result_and_a_date(api, audit) -> None:
    auditor = api("association_auditor")
    ok(auditor.put(f"/api/v1/audits/{audit['id']}/results", json={"results": GOOD_RESULTS[:2]}))
    refused = problem(
        auditor.post(f"/api/v1/audits/{audit['id']}/sign-off", json={}), 422, "audit-incomplete"
    )
    assert rules(refused) == {("/results", "mandatory_result"), ("/audited_on", "required")}
    assert {e["message"] for e in refused["errors"]} >= {
        "no result for mandatory criterion 'origin'",
        "no result for mandatory criterion 'pesticides'",
    }
    future = (date.today() + timedelta(days=3)).isoformat()
    ok(auditor.put(f"/api/v1/audits/{audit['id']}/results", json={"results": GOOD_RESULTS}))
    late = auditor.post(f"/api/v1/audits/{audit['id']}/sign-off", json={"audited_on": future})
    assert rules(problem(late, 422, "audit-incomplete")) == {("/audited_on", "not_in_future")}


def test_a_signed_off_audit_is_locked_and_a_refused_upload_stores_nothing(
    api, session, world
) -> None:
    signed = signed_off_audit(api, world["version"]["id"])
    auditor = api("association_auditor")
    path = f"/api/v1/audits/{signed['id']}"
    locked = problem(
        auditor.put(f"{path}/results", json={"results": GOOD_RESULTS}), 409, "audit-locked"
    )
    assert rules(locked) == {("status", "open_only")}
    problem(auditor.patch(path, json={"summary": "later"}), 409, "audit-locked")
    before = session.scalar(select(func.count()).select_from(StoredFile))
    problem(auditor.post(f"{path}/evidence", **upload(pdf_report(), "r.pdf")), 409, "audit-locked")
    problem(auditor.post(f"{path}/sign-off", json={}), 409, "audit-locked")
    assert session.scalar(select(func.count()).select_from(StoredFile)) == before


def test_evidence_uploads_are_checked(api, audit) -> None:
    auditor = api("association_auditor")
    path = f"/api/v1/audits/{audit['id']}/evidence"
    svg = problem(
        auditor.post(path, **upload(b"<svg onload='x'/>", "x.svg", "image/svg+xml")),
        415,
        "file-type-refused",
    )
    assert rules(svg) == {("file", "svg_refused")}
    zipped = problem(
        auditor.post(path, **upload(b"PK\x03\x04zip", "x.zip")), 415, "file-type-refused"
    )
    assert rules(zipped) == {("file", "content_type")}
    big = problem(
        auditor.post(path, **upload(pdf_report() + b"\x00" * (10 * 1024 * 1024), "big.pdf")),
        413,
        "file-too-large",
    )
    assert rules(big) == {("file", "max_size")}
    unknown = problem(
        auditor.post(path, **upload(pdf_report(), "r.pdf", criterion="colour")),
        422,
        "invalid-measurement",
    )
    assert rules(unknown) == {("criterion", "criterion_exists")}
    assert ok(auditor.get(f"/api/v1/audits/{audit['id']}"))["evidence"] == []


def test_a_decision_needs_a_reason_not_spaces(api, world) -> None:
    signed = signed_off_audit(api, world["version"]["id"])
    response = api("association_admin").post(
        f"/api/v1/audits/{signed['id']}/decision", json={"outcome": "granted", "reason": "      "}
    )
    assert ("/reason", "string_too_short") in rules(problem(response, 422, "validation-failed"))
    assert ok(api("association_admin").get(f"/api/v1/audits/{signed['id']}"))["status"] != "decided"


def test_deciding_before_sign_off_is_refused(api, audit) -> None:
    response = api("association_admin").post(
        f"/api/v1/audits/{audit['id']}/decision",
        json={"outcome": "granted", "reason": "looks fine"},
    )
    assert rules(problem(response, 409, "decision-refused")) == {("status", "signed_off_only")}


def test_nobody_decides_on_their_own_audit(api, world, demo) -> None:
    signed = signed_off_audit(api, world["version"]["id"])
    admin = api("association_admin")
    # The auditor becomes an admin of the association: still not allowed to decide.
    users = ok(admin.get("/api/v1/users"))
    auditor = next(
        u for u in users if u["email"] == demo["users"]["association_auditor"]["username"]
    )
    ok(admin.patch(f"/api/v1/users/{auditor['id']}", json={"role": "admin"}))
    refused = api("association_auditor").post(
        f"/api/v1/audits/{signed['id']}/decision",
        json={"outcome": "granted", "reason": "I checked it myself"},
    )
    body = problem(refused, 403, "own-audit-decision")
    assert rules(body) == {("decided_by", "maker_checker")}
    assert "nobody decides on their own audit" in body["detail"]
    assert ok(admin.get(f"/api/v1/audits/{signed['id']}"))["decision"] is None
    # Someone who did not take part may decide.
    ok(
        admin.post(
            f"/api/v1/audits/{signed['id']}/decision",
            json={"outcome": "refused", "reason": "Sample lost"},
        ),
        201,
    )


def test_a_failed_audit_cannot_be_granted_but_can_be_refused(api, world) -> None:
    results = [dict(r) for r in GOOD_RESULTS]
    results[0]["value"] = 9.5  # moisture over 7 %
    signed = signed_off_audit(api, world["version"]["id"], results=results)
    assert signed["overall_result"] == "fail"
    admin = api("association_admin")
    path = f"/api/v1/audits/{signed['id']}/decision"
    granted = problem(
        admin.post(path, json={"outcome": "granted", "reason": "fine"}), 409, "decision-refused"
    )
    assert rules(granted) == {("/outcome", "failed_audit")}
    no_reason = admin.post(path, json={"outcome": "refused"})
    assert ("/reason", "missing") in rules(problem(no_reason, 422, "validation-failed"))
    refused = ok(
        admin.post(path, json={"outcome": "refused", "reason": "Moisture 9.5 % > 7 %"}), 201
    )
    assert refused["next_surveillance_due_on"] is None
    problem(
        admin.post(path, json={"outcome": "refused", "reason": "again"}), 409, "decision-refused"
    )
    members = ok(api(None).get(f"/api/v1/brands/{SLUG}/members"))
    assert members[0]["certified"] is False and members[0]["certification"] is None


def test_a_suspended_member_cannot_be_granted(api, world) -> None:
    signed = signed_off_audit(api, world["version"]["id"])
    admin = api("association_admin")
    ok(
        admin.post(
            f"/api/v1/memberships/{world['membership']['id']}/suspend",
            json={"reason": "fee unpaid"},
        )
    )
    response = admin.post(
        f"/api/v1/audits/{signed['id']}/decision", json={"outcome": "granted", "reason": "ok!"}
    )
    assert rules(problem(response, 409, "decision-refused")) == {("/outcome", "approved_member")}


def test_who_sees_which_audits(api, audit, session, app) -> None:
    path = f"/api/v1/audits/{audit['id']}"
    for role in (
        "association_admin",
        "association_staff",
        "firm_admin",
        "firm_staff",
        "government_viewer",
    ):
        assert api(role).get(path).status_code == 200, role
    problem(api("firm2_admin").get(path), 404, "audit-not-found")
    assert ok(api("firm2_admin").get(f"/api/v1/audits?brand={SLUG}"))["items"] == []
    # The alliance co-builds the demo brand, not this one.
    problem(api("alliance_viewer").get(path), 404, "audit-not-found")
    stranger = other_association(session, app)
    problem(stranger.get(path), 404, "audit-not-found")
    problem(
        stranger.post(f"{path}/decision", json={"outcome": "granted", "reason": "mine now"}),
        404,
        "audit-not-found",
    )
    firm_view = ok(api("firm_admin").get("/api/v1/audits"))["items"]
    assert {a["firm"]["slug"] for a in firm_view} == {"hongxiang-tea"}


def test_the_firm_cannot_read_another_firm_s_evidence(api, audit) -> None:
    evidence = ok(
        api("association_auditor").post(
            f"/api/v1/audits/{audit['id']}/evidence", **upload(pdf_report(), "r.pdf")
        ),
        201,
    )
    path = f"/api/v1/audits/{audit['id']}/evidence/{evidence['id']}"
    assert api("firm_admin").get(path).status_code == 200
    assert api("firm2_admin").get(path).status_code == 404
    assert api(None).get(path).status_code == 401


def test_audits_list_filters_and_paginates(api, world) -> None:
    auditor = api("association_auditor")
    for _ in range(3):
        ok(auditor.post("/api/v1/audits", json=audit_body(world["version"]["id"])), 201)
    first = auditor.get(f"/api/v1/audits?brand={SLUG}&limit=2")
    page = ok(first)
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert 'rel="next"' in first.headers["Link"]
    rest = ok(auditor.get(f"/api/v1/audits?brand={SLUG}&limit=2&cursor={page['next_cursor']}"))
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert ok(auditor.get(f"/api/v1/audits?brand={SLUG}&status=decided"))["items"] == []
    bad = auditor.get("/api/v1/audits?status=finished")
    assert ("query.status", "enum") in rules(problem(bad, 422, "validation-failed"))


def test_a_grant_schedules_surveillance_and_overdue_audits_are_listed(api, world, session) -> None:
    signed = signed_off_audit(api, world["version"]["id"])
    admin = api("association_admin")
    decision = ok(
        admin.post(
            f"/api/v1/audits/{signed['id']}/decision",
            json={"outcome": "granted", "reason": "conforms", "surveillance_interval_months": 6},
        ),
        201,
    )
    due = date.fromisoformat(decision["next_surveillance_due_on"])
    assert due == services.add_months(date.today(), 6) or due == services.add_months(
        date.today() - timedelta(days=1), 6
    )
    follow_ups = ok(admin.get(f"/api/v1/audits?brand={SLUG}&kind=surveillance"))["items"]
    assert len(follow_ups) == 1
    follow_up = follow_ups[0]
    assert (follow_up["status"], follow_up["due_on"], follow_up["follows_audit_id"]) == (
        "open",
        decision["next_surveillance_due_on"],
        signed["id"],
    )
    assert follow_up["auditor"] is None
    assert all(a["brand"] != SLUG for a in ok(admin.get("/api/v1/audits/overdue")))
    later = (due + timedelta(days=1)).isoformat()
    overdue = ok(admin.get(f"/api/v1/audits/overdue?as_of={later}"))
    assert [a["id"] for a in overdue if a["brand"] == SLUG] == [follow_up["id"]]
    assert ok(api("government_viewer").get(f"/api/v1/audits/overdue?as_of={later}"))
    problem(api("firm_admin").get("/api/v1/audits/overdue"), 403, "forbidden")

    record = session.get(AuditDecision, decision["id"])
    status = services.surveillance_status(session, record, as_of=due + timedelta(days=1))
    assert (status.next_due_on, status.follow_up_audit_id, status.overdue) == (
        due,
        follow_up["id"],
        True,
    )
    assert services.surveillance_status(session, record, as_of=due).overdue is False


def test_surveillance_chain_moves_the_due_date_or_ends_certification(api, world, session) -> None:
    signed = signed_off_audit(api, world["version"]["id"])
    admin, auditor = api("association_admin"), api("association_auditor")
    first = ok(
        admin.post(
            f"/api/v1/audits/{signed['id']}/decision", json={"outcome": "granted", "reason": "ok!"}
        ),
        201,
    )
    follow_up = ok(admin.get(f"/api/v1/audits?brand={SLUG}&kind=surveillance"))["items"][0]
    # The auditor carries out the scheduled surveillance audit and it is granted again.
    ok(auditor.put(f"/api/v1/audits/{follow_up['id']}/results", json={"results": GOOD_RESULTS}))
    ok(
        auditor.post(
            f"/api/v1/audits/{follow_up['id']}/sign-off",
            json={"audited_on": date.today().isoformat()},
        )
    )
    second = ok(
        admin.post(
            f"/api/v1/audits/{follow_up['id']}/decision",
            json={
                "outcome": "granted",
                "reason": "still conforms",
                "surveillance_interval_months": 12,
            },
        ),
        201,
    )
    granted = services.get_granted_decision(session, first["id"])
    assert granted.surveillance.latest_decision_id == second["id"]
    assert granted.surveillance.next_due_on.isoformat() == second["next_surveillance_due_on"]
    # The next surveillance audit is refused: the certification ends.
    nxt = next(
        a
        for a in ok(admin.get(f"/api/v1/audits?brand={SLUG}&kind=surveillance&status=open"))[
            "items"
        ]
    )
    ok(auditor.put(f"/api/v1/audits/{nxt['id']}/results", json={"results": GOOD_RESULTS}))
    ok(
        auditor.post(
            f"/api/v1/audits/{nxt['id']}/sign-off", json={"audited_on": date.today().isoformat()}
        )
    )
    ok(
        admin.post(
            f"/api/v1/audits/{nxt['id']}/decision",
            json={"outcome": "refused", "reason": "records missing"},
        ),
        201,
    )
    session.expire_all()
    ended = services.get_granted_decision(session, first["id"]).surveillance
    assert (ended.latest_outcome, ended.next_due_on) == ("refused", None)
    members = ok(api(None).get(f"/api/v1/brands/{SLUG}/members"))
    assert members[0]["certified"] is False


def test_get_granted_decision_refuses_refused_and_foreign_decisions(
    api, world, session, demo
) -> None:
    from app.errors import Conflict, NotFound

    signed = signed_off_audit(api, world["version"]["id"])
    refused = ok(
        api("association_admin").post(
            f"/api/v1/audits/{signed['id']}/decision",
            json={"outcome": "refused", "reason": "not conforming"},
        ),
        201,
    )
    with pytest.raises(Conflict) as caught:
        services.get_granted_decision(session, refused["id"])
    assert caught.value.slug == "decision-not-granted"
    with pytest.raises(NotFound):
        services.get_granted_decision(
            session, demo["audit_decision"]["id"], owner_organisation_id=-1
        )
    with pytest.raises(NotFound):
        services.get_granted_decision(session, 10**9)
    granted = services.get_granted_decision(session, demo["audit_decision"]["id"])
    assert (granted.owner_slug, granted.firm_registration_number) == (
        "qimen-tea-association",
        "91341024MA2N7B4C3P",
    )
    assert granted.standard_content_hash == demo["standard"]["content_hash"]


def test_decision_endpoint_is_scoped(api, demo) -> None:
    path = f"/api/v1/audit-decisions/{demo['audit_decision']['id']}"
    assert ok(api("firm_admin").get(path))["outcome"] == "granted"
    assert ok(api("alliance_viewer").get(path))["decided_by"] == "王秀兰 Wang Xiulan"
    hidden = problem(api("firm2_admin").get(path), 404, "decision-not-found")
    missing = problem(
        api("firm_admin").get("/api/v1/audit-decisions/999999"), 404, "decision-not-found"
    )
    assert missing["detail"] == "No audit decision 999999."
    assert hidden["detail"] == f"No audit decision {demo['audit_decision']['id']}."


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 15), 12, date(2026, 11, 15)),
        (date(2025, 12, 1), 3, date(2026, 3, 1)),
    ],
)
def test_add_months_clamps_to_the_month_end(start, months, expected) -> None:
    assert services.add_months(start, months) == expected
