"""EPC URNs <-> GS1 Digital Link and EPC normalisation.

Known answers are small excerpts of the EPCIS 2.0 hash examples (``epcis/hash-examples``: the
URNs in ``epcisDocWithAllGS1Keys.jsonld`` / ``epclist_normalisation.jsonld`` and the canonical
Digital Link URIs in the matching ``.prehashes``), produced by the reference event hash generator.
"""

import pytest

from app.gs1.epc import (
    epc_urn_to_digital_link,
    gln_to_digital_link,
    lgtin_to_digital_link,
    lgtin_urn,
    normalize_epc,
    parse_lgtin_urn,
    parse_pgln_urn,
    parse_sgln_urn,
    parse_sgtin_pattern_urn,
    parse_sgtin_urn,
    parse_sscc_urn,
    sgln_urn,
    sgtin_to_digital_link,
    sgtin_urn,
    sscc_to_digital_link,
    sscc_urn,
)
from app.gs1.identifiers import GS1SyntaxError, has_valid_check_digit

REFERENCE_NORMALISATIONS = [
    (
        "urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()",
        "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29",
    ),
    ("urn:epc:id:sgtin:4012345.011111.98%22", "https://id.gs1.org/01/04012345111118/21/98%22"),
    ("urn:epc:id:sgtin:415056789012.0.987654", "https://id.gs1.org/01/04150567890128/21/987654"),
    ("urn:epc:id:sgtin:4012345.012345.12", "https://id.gs1.org/01/04012345123456/21/12"),
    (
        "urn:epc:class:lgtin:4054739.099914.20160711",
        "https://id.gs1.org/01/04054739999148/10/20160711",
    ),
    ("urn:epc:idpat:sgtin:4054739.099914.*", "https://id.gs1.org/01/04054739999148"),
    ("urn:epc:id:sscc:4012345.0000000333", "https://id.gs1.org/00/040123450000003338"),
    ("urn:epc:id:sgln:4012345.00011.987", "https://id.gs1.org/414/4012345000115/254/987"),
    ("urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054"),
    ("urn:epc:id:pgln:4000001.00000", "https://id.gs1.org/417/4000001000005"),
    ("urn:epc:id:pgln:999999999999.", "https://id.gs1.org/417/9999999999994"),
    ("urn:epc:id:giai:4012345.ABC345", "https://id.gs1.org/8004/4012345ABC345"),
    ("urn:epc:id:grai:4012345.00022.334455", "https://id.gs1.org/8003/04012345000221334455"),
    ("urn:epc:idpat:grai:4012345.66666.*", "https://id.gs1.org/8003/04012345666663"),
    ("urn:epc:id:upui:4012345.012345.AB12", "https://id.gs1.org/01/04012345123456/235/AB12"),
]


@pytest.mark.parametrize(("urn", "canonical"), REFERENCE_NORMALISATIONS)
def test_urns_normalise_like_the_reference_hash_generator(urn: str, canonical: str) -> None:
    assert normalize_epc(urn) == canonical
    # a canonical Digital Link is a fixed point
    assert normalize_epc(canonical) == canonical


def test_apostrophe_is_percent_encoded_unlike_the_reference_generator() -> None:
    # The reference generator leaves ' ; = raw; we encode all but unreserved as the brief and
    # RFC 3986 sub-delims require. Pinned so a change of policy is deliberate.
    urn = "urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB"
    assert normalize_epc(urn) == (
        "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7%27SDB"
    )


def test_parsers_return_keys_with_computed_check_digits() -> None:
    assert parse_sgtin_urn("urn:epc:id:sgtin:0614141.812345.6789") == ("80614141123458", "6789")
    assert parse_sgtin_urn("urn:epc:id:sgtin:0614141.812345.A%2FB%25") == (
        "80614141123458",
        "A/B%",
    )
    assert parse_lgtin_urn("urn:epc:class:lgtin:4012345.012345.Lot987") == (
        "04012345123456",
        "Lot987",
    )
    assert parse_sgtin_pattern_urn("urn:epc:idpat:sgtin:4012345.012345.*") == "04012345123456"
    assert parse_sscc_urn("urn:epc:id:sscc:0614141.1234567890") == "106141412345678908"
    assert parse_sgln_urn("urn:epc:id:sgln:4012345.00011.0") == ("4012345000115", None)
    assert parse_sgln_urn("urn:epc:id:sgln:4012345.00011.A%2F1") == ("4012345000115", "A/1")
    assert parse_pgln_urn("urn:epc:id:pgln:4000001.00012") == "4000001000128"


@pytest.mark.parametrize("cp_length", range(6, 13))
def test_every_company_prefix_length_gives_the_same_gtin(cp_length: int) -> None:
    gtin = "80614141123458"
    urn = sgtin_urn(gtin, "X1", cp_length)
    assert urn.split(":")[-1].split(".")[0] == gtin[1 : 1 + cp_length]
    assert parse_sgtin_urn(urn) == (gtin, "X1")


def test_urns_built_from_keys_round_trip() -> None:
    for serial in ['A/B%"&<>?', "!'()*+,-.:;=_", "0"]:
        urn = sgtin_urn("80614141123458", serial, 7)
        assert parse_sgtin_urn(urn) == ("80614141123458", serial)
    assert sgtin_urn("80614141123458", 'x"/', 7) == "urn:epc:id:sgtin:0614141.812345.x%22%2F"
    assert lgtin_urn("04012345123456", "L1", 7) == "urn:epc:class:lgtin:4012345.012345.L1"
    assert sscc_urn("106141412345678908", 7) == "urn:epc:id:sscc:0614141.1234567890"
    assert sgln_urn("4012345000115", 7) == "urn:epc:id:sgln:4012345.00011.0"
    assert sgln_urn("4012345000115", 7, "98/7") == "urn:epc:id:sgln:4012345.00011.98%2F7"
    assert parse_sscc_urn(sscc_urn("106141412345678908", 12)) == "106141412345678908"


def test_check_digits_are_computed_for_every_indicator_and_item() -> None:
    for indicator in "0123456789":
        gtin, _ = parse_sgtin_urn(f"urn:epc:id:sgtin:4012345.{indicator}12345.1")
        assert gtin[0] == indicator
        assert has_valid_check_digit(gtin)


def test_builders_on_our_own_host() -> None:
    base = "https://trace.brand.example.cn/id/"
    assert sgtin_to_digital_link("4012345123456", "S/1", base_url=base) == (
        "https://trace.brand.example.cn/id/01/04012345123456/21/S%2F1"
    )
    assert lgtin_to_digital_link("04012345123456", "L1") == (
        "https://id.gs1.org/01/04012345123456/10/L1"
    )
    assert sscc_to_digital_link("106141412345678908", base_url=base).endswith(
        "/id/00/106141412345678908"
    )
    assert gln_to_digital_link("4012345000115", "0") == "https://id.gs1.org/414/4012345000115"
    assert epc_urn_to_digital_link("urn:epc:id:sgtin:4012345.012345.12", base_url=base) == (
        "https://trace.brand.example.cn/id/01/04012345123456/21/12"
    )
    assert normalize_epc("urn:epc:id:sscc:4012345.0000000333", base_url=base) == (
        "https://trace.brand.example.cn/id/00/040123450000003338"
    )


@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        # any host, path prefix, query data, CPV: reduced to the finest identification level
        (
            "https://trace.brand.example.cn/p/01/09520123456788/22/2A/10/L1/21/S1?17=261231",
            "https://id.gs1.org/01/09520123456788/21/S1",
        ),
        (
            "https://example.com/01/09520123456788/10/L%2F1?linkType=gs1:pip",
            "https://id.gs1.org/01/09520123456788/10/L%2F1",
        ),
        ("https://example.com/01/09520123456788/22/2A", "https://id.gs1.org/01/09520123456788"),
        ("http://example.com/01/9520123456788", "https://id.gs1.org/01/09520123456788"),
        ("https://example.com/01/02345673/21/9", "https://id.gs1.org/01/00000002345673/21/9"),
        (
            "https://example.com/414/4012345000115/254/987",
            "https://id.gs1.org/414/4012345000115/254/987",
        ),
        # a value encoded more than necessary is re-encoded canonically
        (
            "https://x.example/01/09520123456788/21/%41B",
            "https://id.gs1.org/01/09520123456788/21/AB",
        ),
    ],
)
def test_digital_links_on_any_host_normalise_to_id_gs1_org(uri: str, canonical: str) -> None:
    assert normalize_epc(uri) == canonical


@pytest.mark.parametrize(
    "uri",
    [
        "urn:uuid:0b2f6a7e-5b1d-4f59-9a52-2a7d0c3c5d11",
        "https://example.com/things/42",
        "urn:example:pallet:7",
        "geo:47.506694,11.104301",
    ],
)
def test_non_gs1_uris_are_returned_unchanged(uri: str) -> None:
    assert normalize_epc(uri) == uri


@pytest.mark.parametrize(
    ("uri", "field", "rule"),
    [
        ("urn:epc:id:sgtin:0614141.812345", "epc", "urn_syntax"),
        ("urn:epc:id:sgtin:0614141.81234.1", "epc", "length"),
        ("urn:epc:id:sgtin:06141.81234567.1", "epc", "company_prefix"),
        ("urn:epc:id:sgtin:06141A1.812345.1", "epc", "numeric"),
        ("urn:epc:id:sgtin:0614141.812345.a/b", "serial", "urn_escape"),
        ("urn:epc:id:sgtin:0614141.812345.a%2", "serial", "urn_escape"),
        ("urn:epc:id:sgtin:0614141.812345.a%20b", "serial", "urn_escape"),  # space: not CS82
        ("urn:epc:id:sgtin:0614141.812345.", "serial", "empty_value"),
        ("urn:epc:id:sgtin:0614141.812345." + "9" * 21, "serial", "length"),
        ("urn:epc:idpat:sgtin:0614141.812345.12", "epc", "urn_syntax"),
        ("urn:epc:id:sscc:0614141.123456789", "epc", "length"),
        ("urn:epc:id:gdti:4012345.55555.98", "epc", "unsupported_scheme"),
        ("https://id.gs1.org/01/09520123456789/21/1", "gtin", "check_digit"),
        ("https://id.gs1.org/01/09520123456788/21/1/10/A", "path", "qualifier_order"),
    ],
)
def test_malformed_epcs_are_refused(uri: str, field: str, rule: str) -> None:
    with pytest.raises(GS1SyntaxError) as info:
        normalize_epc(uri)
    assert (info.value.field, info.value.rule) == (field, rule), info.value.message


def test_urn_builders_refuse_bad_input() -> None:
    with pytest.raises(GS1SyntaxError) as info:
        sgtin_urn("80614141123458", "1", 5)
    assert info.value.rule == "company_prefix"
    with pytest.raises(GS1SyntaxError) as info:
        sgtin_urn("80614141123459", "1", 7)
    assert info.value.rule == "check_digit"
    with pytest.raises(GS1SyntaxError) as info:
        sgtin_urn("80614141123458", "批次", 7)
    assert info.value.rule == "charset82"
