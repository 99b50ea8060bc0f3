"""eddsa-jcs-2022 against the W3C vc-di-eddsa test vectors, intermediate by intermediate."""

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.certificates.dataintegrity import (
    DataIntegrityError,
    ErrorCode,
    add_proof,
    build_proof_options,
    format_created,
    hash_data,
    jcs,
    resolve_did_key,
    serialize_document,
    sign_canonical_documents,
    sign_document,
    sign_documents,
    verify_proof,
)
from app.certificates.multibase import (
    b58encode,
    decode_ed25519_secret_multikey,
    encode_ed25519_multikey,
    multibase_decode,
)
from tests.vectors import vector_path

CREATED = "2023-02-24T23:36:38Z"


def _suite(name: str) -> Path:
    return vector_path("vc-di-eddsa", "eddsa-jcs-2022", name)


def _text(name: str) -> str:
    return _suite(name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def key_pair() -> dict[str, str]:
    return json.loads(vector_path("vc-di-eddsa", "keyPair.json").read_text())


@pytest.fixture(scope="module")
def private_key(key_pair: dict[str, str]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(
        decode_ed25519_secret_multikey(key_pair["privateKeyMultibase"])
    )


@pytest.fixture(scope="module")
def verification_method(key_pair: dict[str, str]) -> str:
    multikey = key_pair["publicKeyMultibase"]
    return f"did:key:{multikey}#{multikey}"


@pytest.fixture
def unsigned() -> dict[str, Any]:
    return json.loads(vector_path("vc-di-eddsa", "unsigned.json").read_text())


@pytest.fixture
def signed() -> dict[str, Any]:
    return json.loads(_text("signedJCS.json"))


@pytest.fixture
def proof_options(unsigned: dict[str, Any], verification_method: str) -> dict[str, Any]:
    return build_proof_options(unsigned, verification_method=verification_method, created=CREATED)


# --- every intermediate in the vector folder -------------------------------------------------


def test_canonical_document(unsigned: dict[str, Any]) -> None:
    assert jcs(unsigned) == _suite("canonDocJCS.txt").read_bytes()


def test_document_hash(unsigned: dict[str, Any]) -> None:
    assert hashlib.sha256(jcs(unsigned)).hexdigest() == _text("docHashJCS.txt")


def test_proof_options_match_vector_including_key_order(proof_options: dict[str, Any]) -> None:
    assert serialize_document(proof_options) == _text("proofConfigJCS.json")


def test_canonical_proof_config(proof_options: dict[str, Any]) -> None:
    assert jcs(proof_options) == _suite("proofCanonJCS.txt").read_bytes()


def test_proof_config_hash(proof_options: dict[str, Any]) -> None:
    assert hashlib.sha256(jcs(proof_options)).hexdigest() == _text("proofHashJCS.txt")


def test_combined_hash(unsigned: dict[str, Any], proof_options: dict[str, Any]) -> None:
    assert hash_data(unsigned, proof_options).hex() == _text("combinedHashJCS.txt")


def test_signature_hex_and_base58(
    unsigned: dict[str, Any], proof_options: dict[str, Any], private_key: Ed25519PrivateKey
) -> None:
    signature = private_key.sign(hash_data(unsigned, proof_options))
    assert signature.hex() == _text("sigHexJCS.txt")
    assert "z" + b58encode(signature) == _text("sigBTC58JCS.txt")


# --- add_proof ---------------------------------------------------------------------------------


def test_add_proof_reproduces_signed_vector_byte_for_byte(
    unsigned: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str
) -> None:
    signed = add_proof(
        unsigned, private_key, verification_method=verification_method, created=CREATED
    )
    assert serialize_document(signed).encode("utf-8") == _suite("signedJCS.json").read_bytes()


def test_add_proof_leaves_input_untouched(
    unsigned: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str
) -> None:
    before = copy.deepcopy(unsigned)
    signed = add_proof(
        unsigned, private_key, verification_method=verification_method, created=CREATED
    )
    assert unsigned == before
    signed["@context"].append("https://example.org/mutated")
    assert unsigned == before


def test_add_proof_refuses_a_document_that_already_has_a_proof(
    signed: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str
) -> None:
    with pytest.raises(DataIntegrityError, match="already has a proof"):
        add_proof(signed, private_key, verification_method=verification_method, created=CREATED)


@pytest.mark.parametrize("created", ["2023-02-24", "2023-02-24T23:36:38", "2023-13-01T00:00:00Z"])
def test_add_proof_rejects_created_without_zone_or_invalid(
    created: str,
    unsigned: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
) -> None:
    with pytest.raises(DataIntegrityError, match="dateTimeStamp"):
        add_proof(unsigned, private_key, verification_method=verification_method, created=created)


def test_add_proof_rejects_non_canonicalisable_document(
    unsigned: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str
) -> None:
    unsigned["credentialSubject"]["score"] = float("nan")
    with pytest.raises(DataIntegrityError, match="canonicalised"):
        add_proof(unsigned, private_key, verification_method=verification_method, created=CREATED)


def test_add_proof_without_created_omits_it_and_verifies(
    unsigned: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str
) -> None:
    signed = add_proof(unsigned, private_key, verification_method=verification_method, created=None)
    assert "created" not in signed["proof"]
    result = verify_proof(signed, resolve_did_key)
    assert result.verified, result.errors
    assert result.created is None


def test_add_proof_on_document_without_context_and_non_ascii(
    private_key: Ed25519PrivateKey, verification_method: str
) -> None:
    document = {"name": "安吉白茶", "n": 3}
    signed = add_proof(document, private_key, verification_method=verification_method, created=None)
    assert "@context" not in signed["proof"]
    assert "安吉白茶" in serialize_document(signed)
    assert verify_proof(json.loads(serialize_document(signed)), resolve_did_key).verified


def test_format_created() -> None:
    moment = datetime(2023, 2, 25, 7, 36, 38, 999, tzinfo=timezone(timedelta(hours=8)))
    assert format_created(moment) == CREATED
    assert format_created(datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)) == CREATED
    with pytest.raises(DataIntegrityError, match="timezone-aware"):
        format_created(datetime(2023, 2, 24, 23, 36, 38))


# --- verify_proof ----------------------------------------------------------------------------


def test_verify_accepts_the_w3c_signed_vector(
    signed: dict[str, Any], verification_method: str
) -> None:
    result = verify_proof(signed, resolve_did_key, expected_proof_purpose="assertionMethod")
    assert result.verified
    assert result.errors == ()
    assert result.verification_method == verification_method
    assert result.created == CREATED


def _tamper_subject(doc: dict[str, Any]) -> None:
    doc["credentialSubject"]["alumniOf"] = "The School of Counterfeits"


def _tamper_created(doc: dict[str, Any]) -> None:
    doc["proof"]["created"] = "2023-02-24T23:36:39Z"


def _tamper_proof_value(doc: dict[str, Any]) -> None:
    value = doc["proof"]["proofValue"]
    doc["proof"]["proofValue"] = value[:-1] + ("Y" if value[-1] != "Y" else "X")


def _tamper_purpose(doc: dict[str, Any]) -> None:
    doc["proof"]["proofPurpose"] = "authentication"


def _tamper_added_field(doc: dict[str, Any]) -> None:
    doc["validUntil"] = "2099-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "tamper",
    [_tamper_subject, _tamper_created, _tamper_proof_value, _tamper_purpose, _tamper_added_field],
)
def test_verify_rejects_tampering_as_invalid_signature(tamper: Any, signed: dict[str, Any]) -> None:
    tamper(signed)
    result = verify_proof(signed, resolve_did_key)
    assert not result.verified
    assert result.codes == (ErrorCode.INVALID_SIGNATURE,)


def test_verify_rejects_changed_document_context(signed: dict[str, Any]) -> None:
    signed["@context"][1] = "https://example.org/other/v1"
    result = verify_proof(signed, resolve_did_key)
    assert result.codes == (ErrorCode.CONTEXT_MISMATCH,)


def test_verify_rejects_changed_proof_context(signed: dict[str, Any]) -> None:
    signed["proof"]["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    # Now a prefix of the document's contexts, so only the signature can catch it.
    result = verify_proof(signed, resolve_did_key)
    assert result.codes == (ErrorCode.INVALID_SIGNATURE,)


def test_verify_allows_contexts_appended_after_signing(signed: dict[str, Any]) -> None:
    # Spec: the document's @context must start with the proof's; the proof's is what was signed.
    signed["@context"].append("https://example.org/later/v1")
    assert verify_proof(signed, resolve_did_key).verified


def test_verify_rejects_truncated_proof_value(signed: dict[str, Any]) -> None:
    signed["proof"]["proofValue"] = signed["proof"]["proofValue"][:40]
    result = verify_proof(signed, resolve_did_key)
    assert result.codes == (ErrorCode.MALFORMED_PROOF,)
    assert "64-byte" in result.errors[0][1]


@pytest.mark.parametrize("value", ["u" + "A" * 86, "z0OIl", "", "2HnFSSPPBzR36zdDgK8"])
def test_verify_reports_malformed_multibase(value: str, signed: dict[str, Any]) -> None:
    signed["proof"]["proofValue"] = value
    assert verify_proof(signed, resolve_did_key).codes == (ErrorCode.MALFORMED_MULTIBASE,)


def test_verify_reports_unknown_cryptosuite(signed: dict[str, Any]) -> None:
    signed["proof"]["cryptosuite"] = "eddsa-rdfc-2022"
    result = verify_proof(signed, resolve_did_key)
    assert result.codes == (ErrorCode.UNKNOWN_CRYPTOSUITE,)
    assert "eddsa-rdfc-2022" in result.errors[0][1]


def test_verify_reports_wrong_proof_type(signed: dict[str, Any]) -> None:
    signed["proof"]["type"] = "Ed25519Signature2020"
    assert verify_proof(signed, resolve_did_key).codes == (ErrorCode.UNSUPPORTED_PROOF_TYPE,)


@pytest.mark.parametrize("field", ["proofPurpose", "verificationMethod", "proofValue"])
def test_verify_reports_missing_required_field(field: str, signed: dict[str, Any]) -> None:
    del signed["proof"][field]
    result = verify_proof(signed, resolve_did_key)
    assert not result.verified
    assert result.codes == (ErrorCode.MALFORMED_PROOF,)
    assert field in result.errors[0][1]


def test_verify_reports_malformed_created(signed: dict[str, Any]) -> None:
    signed["proof"]["created"] = "yesterday"
    assert verify_proof(signed, resolve_did_key).codes == (ErrorCode.MALFORMED_PROOF,)


def test_verify_reports_purpose_mismatch_when_asked(signed: dict[str, Any]) -> None:
    result = verify_proof(signed, resolve_did_key, expected_proof_purpose="authentication")
    assert result.codes == (ErrorCode.PROOF_PURPOSE_MISMATCH,)


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ([], ErrorCode.MALFORMED_DOCUMENT),
        ({"a": 1}, ErrorCode.MALFORMED_PROOF),
        ({"proof": "z123"}, ErrorCode.MALFORMED_PROOF),
        ({"proof": [{}, {}]}, ErrorCode.MALFORMED_PROOF),
    ],
)
def test_verify_never_raises_on_garbage(document: Any, code: ErrorCode) -> None:
    result = verify_proof(document, resolve_did_key)
    assert not result.verified
    assert result.codes == (code,)


def test_verify_reports_non_canonicalisable_document(signed: dict[str, Any]) -> None:
    signed["big"] = 2**60
    assert verify_proof(signed, resolve_did_key).codes == (ErrorCode.MALFORMED_DOCUMENT,)


def test_verify_reports_unknown_key(signed: dict[str, Any]) -> None:
    def resolver(vm: str) -> bytes:
        raise KeyError(vm)

    assert verify_proof(signed, resolver).codes == (ErrorCode.KEY_NOT_FOUND,)


def test_verify_reports_non_ed25519_key(signed: dict[str, Any]) -> None:
    # A secp256k1 Multikey behind a did:key verification method.
    secp = "zQ3sgkxA1r9UUKeDtF6gRP5t3pbNSemByHZ3XvvkoJLg8DUrj"
    signed["proof"]["verificationMethod"] = f"did:key:{secp}#{secp}"
    result = verify_proof(signed, resolve_did_key)
    assert result.codes == (ErrorCode.INVALID_KEY,)
    assert "secp256k1" in result.errors[0][1]


def test_verify_reports_wrong_length_key(signed: dict[str, Any]) -> None:
    assert verify_proof(signed, lambda vm: bytes(31)).codes == (ErrorCode.INVALID_KEY,)


def test_verify_with_another_key_is_invalid_signature(signed: dict[str, Any]) -> None:
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert verify_proof(signed, lambda vm: other).codes == (ErrorCode.INVALID_SIGNATURE,)


def test_verify_does_not_mutate_input(signed: dict[str, Any]) -> None:
    signed["@context"].append("https://example.org/later/v1")
    before = copy.deepcopy(signed)
    verify_proof(signed, resolve_did_key)
    assert signed == before


# --- did:key resolution ------------------------------------------------------------------------


def test_resolve_did_key(key_pair: dict[str, str], verification_method: str) -> None:
    raw = resolve_did_key(verification_method)
    assert encode_ed25519_multikey(raw) == key_pair["publicKeyMultibase"]
    assert raw == multibase_decode(key_pair["publicKeyMultibase"])[2:]


def test_resolve_did_key_rejects_other_methods_and_mismatched_fragment(
    key_pair: dict[str, str],
) -> None:
    with pytest.raises(LookupError):
        resolve_did_key("did:web:example.org#key-1")
    with pytest.raises(ValueError, match="fragment"):
        resolve_did_key(f"did:key:{key_pair['publicKeyMultibase']}#z6MkOther")


# --- sign_document -----------------------------------------------------------------------------


def test_sign_document_gives_the_vector_proof_and_a_text_that_parses_back(
    unsigned: dict[str, Any],
    signed: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
) -> None:
    before = copy.deepcopy(unsigned)
    result = sign_document(
        unsigned, private_key, verification_method=verification_method, created=CREATED
    )
    assert unsigned == before
    assert result.document == signed
    assert json.loads(result.text) == signed
    # The unsecured part of the text is exactly the canonical form that was hashed.
    assert result.text.startswith(_suite("canonDocJCS.txt").read_bytes()[:-1] + b',"proof":')
    assert verify_proof(json.loads(result.text), resolve_did_key).verified


def test_sign_document_on_an_empty_document_and_with_a_proof(
    private_key: Ed25519PrivateKey, verification_method: str
) -> None:
    result = sign_document({}, private_key, verification_method=verification_method, created=None)
    assert json.loads(result.text) == result.document
    assert list(result.document) == ["proof"]
    with pytest.raises(DataIntegrityError, match="already has a proof"):
        sign_document(
            result.document, private_key, verification_method=verification_method, created=None
        )
    with pytest.raises(DataIntegrityError, match="canonicalised"):
        sign_document(
            {"x": 2**60}, private_key, verification_method=verification_method, created=None
        )


def test_sign_documents_gives_what_sign_document_gives_for_each(
    unsigned: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str
) -> None:
    other = {**unsigned, "id": "urn:uuid:2", "name": "祁门红茶 \u2028 \U0001f375"}
    documents = [
        unsigned,
        other,
        {**unsigned, "@context": [*unsigned["@context"], "https://example.org/more"]},
        {"name": "no context"},
        # A context holding the proof's own member: each proof is canonicalised on its own.
        {**unsigned, "@context": [unsigned["@context"][0], {"proofValue": ""}]},
        {**unsigned, "@context": [unsigned["@context"][0], {"proofValue": ""}], "id": "x"},
        unsigned,
    ]
    options = {"verification_method": verification_method, "created": CREATED}
    batch = list(sign_documents(documents, private_key, **options))
    for document, result in zip(documents, batch, strict=True):
        alone = sign_document(document, private_key, **options)
        assert result.text == alone.text
        assert result.document == alone.document
        assert result.text.endswith(b',"proof":' + jcs(result.document["proof"]) + b"}")
        assert verify_proof(json.loads(result.text), resolve_did_key).verified
    assert list(sign_documents([], private_key, **options)) == []
    with pytest.raises(DataIntegrityError, match="already has a proof"):
        list(sign_documents([unsigned, batch[0].document], private_key, **options))


def test_signing_canonical_bytes_gives_what_signing_the_document_gives(
    unsigned: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str
) -> None:
    documents = [unsigned, {**unsigned, "id": "urn:uuid:2", "name": "祁门红茶 \U0001f375"}]
    options = {"verification_method": verification_method, "created": CREATED}
    signed = list(
        sign_canonical_documents(
            (jcs(document) for document in documents),
            private_key,
            context=unsigned["@context"],
            **options,
        )
    )
    for document, (text, proof_value) in zip(documents, signed, strict=True):
        alone = sign_document(document, private_key, **options)
        assert (text, proof_value) == (alone.text, alone.document["proof"]["proofValue"])
        assert verify_proof(json.loads(text), resolve_did_key).verified
