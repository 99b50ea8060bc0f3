"""Errors of the certificates domain (stable slugs: ``<base>/problems/<slug>``)."""

from flask_babel import lazy_gettext

from app.errors import Conflict, Forbidden, InvalidInput, NotFound


class NotAnIssuer(Forbidden):
    """Only associations hold issuer keys and issue certificates."""

    slug = "not-an-issuer"


class IssuerKeyNotFound(NotFound):
    slug = "issuer-key-not-found"


class IssuerKeyAlreadyRevoked(Conflict):
    slug = "issuer-key-already-revoked"


class InvalidRevocationDate(InvalidInput):
    slug = "invalid-revocation-date"


class CertificateNotFound(NotFound):
    slug = "certificate-not-found"
    title = lazy_gettext("Unknown certificate")


class IssuerNotFound(NotFound):
    """No association by that name: it has no DID document and publishes no status lists."""

    slug = "issuer-not-found"
    title = lazy_gettext("Unknown issuer")


class DidDocumentNotFound(NotFound):
    """The association exists but has no signing key yet, so nothing to list in its DID."""

    slug = "did-document-not-found"
    title = lazy_gettext("No DID document yet")


class StatusListNotFound(NotFound):
    slug = "status-list-not-found"
    title = lazy_gettext("Unknown status list")


class NoGrantedDecision(Conflict):
    """Issuance needs a granted audit decision for the standard version in scope."""

    slug = "no-granted-decision"


class StandardVersionNotEffective(Conflict):
    """A certificate under a standard version may not be valid before the version takes
    effect (its ``effective_from``); audits may apply the version ahead of that day."""

    slug = "standard-version-not-effective"
    title = lazy_gettext("Standard version not yet in effect")


class NotAMember(Conflict):
    """Certificates are issued only to member firms of the brand."""

    slug = "not-a-member"


class DecisionPredatesMembership(Conflict):
    """A firm that left a brand and joined again must pass a new audit: a decision granted
    before its current membership began backs no certificate."""

    slug = "decision-predates-membership"
    title = lazy_gettext("Decision predates the membership")


class InvalidTransition(Conflict):
    """The lifecycle does not allow this change from the certificate's current status."""

    slug = "invalid-certificate-transition"


class CertificateWithdrawn(InvalidTransition):
    """Withdrawal is final: a withdrawn certificate is never reinstated or renewed."""

    slug = "certificate-withdrawn"


class CertificateCancelled(InvalidTransition):
    """Cancellation is final: a certificate its holder gave up is never suspended, reinstated,
    withdrawn, renewed or re-issued."""

    slug = "certificate-cancelled"


class CancellationNotAllowed(Forbidden):
    """A certificate is cancelled by the holder firm's admins, or recorded as cancelled by the
    issuing association's admins and staff: no other role."""

    slug = "cancellation-not-allowed"


class InvalidCertificateRequest(InvalidInput):
    slug = "invalid-certificate-request"


class LabelQuotaExceeded(Conflict):
    """A label order would take the certificate beyond its label quota."""

    slug = "label-quota-exceeded"


class CertificateNotInForce(Conflict):
    slug = "certificate-not-in-force"
