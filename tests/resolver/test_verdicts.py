"""The verdict rules, in their fixed order, from plain facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.resolver.verdicts import (
    BatchFacts,
    CertificateFacts,
    CodeFacts,
    Level,
    PartyFacts,
    ProductFacts,
    Reason,
    UnitFacts,
    Verdict,
    certificate_problems,
    decide,
    shopper_facts,
)

TODAY = date(2026, 6, 1)
GTIN = "09501101530003"
CERT = CertificateFacts(
    number="QTA-2026-0001",
    status="active",
    valid_from=date(2026, 1, 1),
    valid_until=date(2029, 1, 1),
    standard_code="T/QMTA 001-2026",
    standard_version="1.0",
)
GENUINE = CodeFacts(
    level=Level.UNIT,
    gtin=GTIN,
    lot="L1",
    serial="S1",
    product=ProductFacts(1, GTIN, "红茶", "Black tea"),
    batch=BatchFacts(
        1, "L1", production_date=date(2026, 3, 20), best_before_date=date(2028, 3, 19)
    ),
    unit=UnitFacts(1, "S1", "active"),
    firm=PartyFacts(2, "firm", "红香", "Hongxiang"),
    certificate=CERT,
)


def verdict_of(facts: CodeFacts, **kwargs) -> Verdict:
    return decide(facts, today=TODAY, **kwargs).verdict


def test_a_registered_active_certified_unit_is_genuine() -> None:
    decision = decide(GENUINE, today=TODAY)
    assert decision.verdict is Verdict.GENUINE
    assert decision.reasons == ()


@pytest.mark.parametrize("change", [{"lot_mismatch": "L1"}, {"signature_mismatch": True}])
def test_a_copied_serial_shows_and_counts_nothing_of_the_genuine_pack(change) -> None:
    copied = replace(GENUINE, lot="L9", **change)
    decision = decide(copied, today=TODAY)
    assert decision.verdict is Verdict.NOT_FOUND
    assert "L1" not in repr(decision.reasons)
    shown = shopper_facts(copied)
    assert shown.batch is None and shown.unit is None and shown.unit_key is None
    assert shown.product == GENUINE.product and shown.firm == GENUINE.firm
    assert shopper_facts(GENUINE) is GENUINE


@pytest.mark.parametrize(
    ("change", "expected", "reason"),
    [
        ({"product": None}, Verdict.NOT_FOUND, "unknown_gtin"),
        ({"unit": None}, Verdict.NOT_FOUND, "unknown_serial"),
        ({"lot_mismatch": "L9"}, Verdict.NOT_FOUND, "lot_mismatch"),
        (
            {"unit": UnitFacts(1, "S1", "blacklisted", "stolen")},
            Verdict.BLOCKED,
            "code_blacklisted",
        ),
        ({"unit": UnitFacts(1, "S1", "inactive")}, Verdict.NOT_ACTIVATED, "code_not_activated"),
        ({"certificate": None}, Verdict.NOT_VALID, "no_certificate"),
        (
            {"certificate": replace(CERT, status="suspended", status_reason="audit failed")},
            Verdict.NOT_VALID,
            "certificate_suspended",
        ),
        (
            {"certificate": replace(CERT, status="withdrawn")},
            Verdict.NOT_VALID,
            "certificate_withdrawn",
        ),
        (
            {"certificate": replace(CERT, status="cancelled", status_reason="left the brand")},
            Verdict.NOT_VALID,
            "certificate_cancelled",
        ),
        (
            {"certificate": replace(CERT, valid_until=date(2026, 5, 31))},
            Verdict.NOT_VALID,
            "certificate_expired",
        ),
        (
            {
                "certificate": replace(
                    CERT, surveillance_overdue=True, next_surveillance_due=date(2026, 5, 1)
                )
            },
            Verdict.NOT_VALID,
            "surveillance_overdue",
        ),
        (
            {"batch": replace(GENUINE.batch, restriction="recalled", restriction_reason="mould")},
            Verdict.NOT_VALID,
            "product_recalled",
        ),
        (
            {"unit": UnitFacts(1, "S1", "active", restriction="on_hold")},
            Verdict.NOT_VALID,
            "product_on_hold",
        ),
    ],
)
def test_each_rule_gives_its_verdict_and_reason(change, expected, reason) -> None:
    decision = decide(replace(GENUINE, **change), today=TODAY)
    assert decision.verdict is expected
    assert decision.reasons[0].code == reason


def test_rules_apply_in_order_the_first_failing_wins() -> None:
    blocked_and_suspended = replace(
        GENUINE,
        unit=UnitFacts(1, "S1", "blacklisted"),
        certificate=replace(CERT, status="suspended"),
    )
    assert verdict_of(blocked_and_suspended) is Verdict.BLOCKED
    inactive_and_recalled = replace(
        GENUINE,
        unit=UnitFacts(1, "S1", "inactive"),
        batch=replace(GENUINE.batch, restriction="recalled"),
    )
    assert verdict_of(inactive_and_recalled) is Verdict.NOT_ACTIVATED
    # Anomalies never rescue a certificate that is not in force.
    suspended = replace(GENUINE, certificate=replace(CERT, status="suspended"))
    assert verdict_of(suspended, anomalies=[Reason.of("many_scans")]) is Verdict.NOT_VALID


def test_anomalies_turn_genuine_into_a_warning() -> None:
    decision = decide(GENUINE, today=TODAY, anomalies=[Reason.of("many_clients")])
    assert decision.verdict is Verdict.GENUINE_WITH_WARNING
    assert decision.reason_codes == ["many_clients"]


def test_dates_printed_in_the_link_must_match_the_batch() -> None:
    same = decide(GENUINE, today=TODAY, label_dates={"11": date(2026, 3, 20)})
    assert same.verdict is Verdict.GENUINE
    other = decide(GENUINE, today=TODAY, label_dates={"15": date(2029, 1, 1)})
    assert other.verdict is Verdict.GENUINE_WITH_WARNING
    assert other.reasons[0].code == "label_data_mismatch"
    assert other.reasons[0].params == {
        "ai": "15",
        "printed": "2029-01-01",
        "recorded": "2028-03-19",
    }


def test_product_and_batch_links_cannot_prove_a_single_pack() -> None:
    product = replace(GENUINE, level=Level.PRODUCT, lot=None, serial=None, unit=None, batch=None)
    assert decide(product, today=TODAY).reason_codes == ["product_level_code"]
    batch = replace(GENUINE, level=Level.BATCH, serial=None, unit=None)
    assert decide(batch, today=TODAY).reason_codes == ["batch_level_code"]
    unknown_batch = replace(batch, batch=None)
    assert verdict_of(unknown_batch) is Verdict.NOT_FOUND


def test_in_force_means_status_dates_and_surveillance() -> None:
    assert certificate_problems(CERT, TODAY) == []
    not_yet = certificate_problems(replace(CERT, valid_from=date(2026, 7, 1)), TODAY)
    assert [r.code for r in not_yet] == ["certificate_not_yet_valid"]
    # The last day of validity is still valid; the day after is not.
    assert certificate_problems(replace(CERT, valid_until=TODAY), TODAY) == []
    expired = certificate_problems(
        replace(CERT, status="expired", valid_until=date(2026, 1, 2)), TODAY
    )
    assert [r.code for r in expired] == ["certificate_expired"]


def test_unit_key_counts_one_pack_per_gtin_and_serial() -> None:
    assert GENUINE.unit_key == f"01/{GTIN}/21/S1"
    assert replace(GENUINE, unit=None).unit_key is None


def test_a_certificate_or_label_signed_by_a_revoked_key_is_not_valid() -> None:
    certificate = replace(GENUINE, certificate=replace(CERT, key_revoked=True))
    decision = decide(certificate, today=TODAY)
    assert decision.verdict is Verdict.NOT_VALID
    assert decision.reason_codes == ["certificate_key_revoked"]
    label = decide(replace(GENUINE, label_key_revoked=True), today=TODAY)
    assert label.verdict is Verdict.NOT_VALID and label.reason_codes == ["label_key_revoked"]
    # A blocked label stays BLOCKED: what the producer did is the more useful answer.
    blocked = replace(GENUINE, label_key_revoked=True, unit=UnitFacts(1, "S1", "blacklisted"))
    assert verdict_of(blocked) is Verdict.BLOCKED


def test_a_label_signed_before_its_key_was_revoked_is_genuine_with_a_warning() -> None:
    decision = decide(replace(GENUINE, label_key_revoked_after_issue=True), today=TODAY)
    assert decision.verdict is Verdict.GENUINE_WITH_WARNING
    assert decision.reason_codes == ["label_key_revoked_after_issue"]
    # A certificate out of force still decides first.
    suspended = replace(
        GENUINE,
        label_key_revoked_after_issue=True,
        certificate=replace(CERT, key_revoked=True),
    )
    assert verdict_of(suspended) is Verdict.NOT_VALID


def test_a_certificate_whose_scope_no_longer_names_the_product_is_not_valid_for_it() -> None:
    uncovered = replace(GENUINE, certificate=replace(CERT, covers_product=False))
    decision = decide(uncovered, today=TODAY)
    assert decision.verdict is Verdict.NOT_VALID
    assert decision.reason_codes == ["certificate_scope_excludes"]
    assert decision.reasons[0].params["number"] == CERT.number
