"""The brandtrace JSON-LD context, served at ``/contexts/brandtrace/v1``.

It names the terms our credentials and DID documents use beyond the VC 2.0, DID and Multikey
contexts. Terms those contexts protect are not redefined, except ``validFrom`` and
``validUntil``, defined exactly as VC 2.0 defines them (an identical redefinition is allowed),
so the same context also works in DID documents, where they bound a key's signing window.
"""

from __future__ import annotations

from typing import Any

from app.certificates import keys

_TERMS = (
    "BrandCertificateCredential",
    "ConformityAttestation",
    "Attestation",
    "ConformityAssessment",
    "Standard",
    "IdentifierScheme",
    "attestationType",
    "certificateNumber",
    "issuedToParty",
    "registeredId",
    "idScheme",
    "nameEn",
    "referenceStandard",
    "code",
    "version",
    "contentHash",
    "scope",
    "products",
    "gtin",
    "facilities",
    "address",
    "gln",
    "markLicence",
    "licenceNumber",
    "labelQuota",
    "brand",
    "assessment",
    "assessmentDate",
    "conformance",
    "decision",
    "decisionDate",
    "auditEvidence",
    "sha256",
    "replaces",
)
_ID_TERMS = {"issuedToParty", "referenceStandard", "brand", "decision", "replaces", "idScheme"}
# ``name`` inside our objects is VC 2.0's ``name``; nothing else is reused.
_XSD = "http://www.w3.org/2001/XMLSchema#"


def brandtrace_context() -> dict[str, Any]:
    """The context document (terms under ``<base>/contexts/brandtrace/v1#``)."""
    vocabulary = keys.context_url() + "#"
    terms: dict[str, Any] = {"@version": 1.1, "@protected": True}
    for term in _TERMS:
        if term in _ID_TERMS:
            terms[term] = {"@id": vocabulary + term, "@type": "@id"}
        else:
            terms[term] = vocabulary + term
    terms["assessmentDate"] = {"@id": vocabulary + "assessmentDate", "@type": _XSD + "date"}
    terms["decisionDate"] = {"@id": vocabulary + "decisionDate", "@type": _XSD + "date"}
    terms["labelQuota"] = {"@id": vocabulary + "labelQuota", "@type": _XSD + "integer"}
    terms["validFrom"] = {
        "@id": "https://www.w3.org/2018/credentials#validFrom",
        "@type": _XSD + "dateTime",
    }
    terms["validUntil"] = {
        "@id": "https://www.w3.org/2018/credentials#validUntil",
        "@type": _XSD + "dateTime",
    }
    return {"@context": terms}
