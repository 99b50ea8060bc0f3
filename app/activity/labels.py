"""Readable names of the actions in the activity trail.

A record's ``action`` is the endpoint that served the request (``audits_portal.sign_off``); the
API and the portal's twin endpoints share one label. Endpoints missing here (new ones) still
show, under a generic label with their endpoint name.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, lazy_gettext

# (label, the endpoints it names): the API's endpoint and its portal twins.
_GROUPS: list[tuple[Any, tuple[str, ...]]] = [
    # Accounts
    (lazy_gettext("Signed in"), ("web_auth.login",)),
    (lazy_gettext("Signed out"), ("web_auth.logout",)),
    (lazy_gettext("Changed own password"), ("web_auth.change_password", "auth.change_password")),
    (lazy_gettext("Created an API token"), ("auth.create_token", "auth_portal.tokens")),
    (lazy_gettext("Revoked an API token"), ("auth.revoke_token", "auth_portal.revoke_token")),
    (lazy_gettext("Added a person"), ("auth.create_user", "auth_portal.users")),
    (lazy_gettext("Changed a person's account"), ("auth.update_user", "auth_portal.update_user")),
    # Audits
    (lazy_gettext("Opened an audit"), ("audits.create_audit", "audits_portal.new_audit")),
    (lazy_gettext("Changed an audit"), ("audits.update_audit",)),
    (
        lazy_gettext("Recorded audit results"),
        ("audits.record_results", "audits_portal.record_results"),
    ),
    (
        lazy_gettext("Attached audit evidence"),
        ("audits.add_evidence", "audits_portal.add_evidence"),
    ),
    (lazy_gettext("Signed an audit off"), ("audits.sign_off", "audits_portal.sign_off")),
    (lazy_gettext("Decided on an audit"), ("audits.decide", "audits_portal.decide")),
    # Brands and memberships
    (lazy_gettext("Created a brand"), ("brands.create_brand",)),
    (lazy_gettext("Changed a brand profile"), ("brands.update_brand", "brands_portal.profile")),
    (lazy_gettext("Changed a brand logo"), ("brands.set_logo", "brands_portal.logo")),
    (
        lazy_gettext("Changed a brand trademark"),
        ("brands.set_trademark", "brands_portal.trademark"),
    ),
    (lazy_gettext("Added a co-builder"), ("brands.add_co_builder", "brands_portal.add_co_builder")),
    (
        lazy_gettext("Removed a co-builder"),
        ("brands.remove_co_builder", "brands_portal.remove_co_builder"),
    ),
    (
        lazy_gettext("Applied for membership"),
        ("brands.apply_for_membership", "firm_portal.apply_to_brand"),
    ),
    (lazy_gettext("Approved a membership"), ("brands.approve_membership",)),
    (lazy_gettext("Rejected a membership application"), ("brands.reject_membership",)),
    (lazy_gettext("Suspended a membership"), ("brands.suspend_membership",)),
    (lazy_gettext("Reinstated a membership"), ("brands.reinstate_membership",)),
    (lazy_gettext("Left a brand"), ("brands.leave_membership", "firm_portal.leave")),
    (lazy_gettext("Decided on a membership"), ("brands_portal.change_membership",)),
    # Certificates and keys
    (
        lazy_gettext("Issued a certificate"),
        ("certificates.issue_certificate", "certificates_portal.issue"),
    ),
    (
        lazy_gettext("Renewed a certificate"),
        ("certificates.renew_certificate", "certificates_portal.renew"),
    ),
    (
        lazy_gettext("Re-issued a certificate"),
        ("certificates.reissue_certificate", "certificates_portal.reissue"),
    ),
    (
        lazy_gettext("Suspended a certificate"),
        ("certificates.suspend_certificate", "certificates_portal.suspend"),
    ),
    (
        lazy_gettext("Reinstated a certificate"),
        ("certificates.reinstate_certificate", "certificates_portal.reinstate"),
    ),
    (
        lazy_gettext("Withdrew a certificate"),
        ("certificates.withdraw_certificate", "certificates_portal.withdraw"),
    ),
    (
        lazy_gettext("Cancelled a certificate"),
        (
            "certificates.cancel_certificate",
            "certificates_portal.cancel",
            "certificates_portal.give_up",
        ),
    ),
    (
        lazy_gettext("Rotated the issuer key"),
        ("certificates.rotate_issuer_key", "certificates_portal.rotate_key"),
    ),
    (
        lazy_gettext("Revoked an issuer key"),
        ("certificates.revoke_issuer_key", "certificates_portal.revoke_key"),
    ),
    # Standards
    (
        lazy_gettext("Created a standard"),
        ("standards.create_standard", "standards_portal.create_standard"),
    ),
    (lazy_gettext("Changed a standard"), ("standards.update_standard",)),
    (
        lazy_gettext("Drafted a standard version"),
        ("standards.create_version", "standards_portal.new_version"),
    ),
    (
        lazy_gettext("Edited a draft standard version"),
        ("standards.replace_draft", "standards_portal.edit_version"),
    ),
    (
        lazy_gettext("Discarded a draft standard version"),
        ("standards.delete_draft", "standards_portal.discard_version"),
    ),
    (
        lazy_gettext("Published a standard version"),
        ("standards.publish_version", "standards_portal.publish_version"),
    ),
    (
        lazy_gettext("Withdrew a standard version"),
        ("standards.withdraw_version", "standards_portal.withdraw_version"),
    ),
    # Products and labels
    (lazy_gettext("Added a product"), ("products.create_product", "products_portal.new_product")),
    (
        lazy_gettext("Changed a product"),
        ("products.update_product", "products_portal.edit_product"),
    ),
    (
        lazy_gettext("Added a product image"),
        ("products.add_product_image", "products_portal.add_image"),
    ),
    (
        lazy_gettext("Removed a product image"),
        ("products.remove_product_image", "products_portal.remove_image"),
    ),
    (lazy_gettext("Added a batch"), ("products.create_batch", "products_portal.new_batch")),
    (lazy_gettext("Ordered labels"), ("products.create_label_order", "products_portal.new_order")),
    (
        lazy_gettext("Approved a label order"),
        ("products.approve_label_order", "products_portal.approve_order"),
    ),
    (
        lazy_gettext("Rejected a label order"),
        ("products.reject_label_order", "products_portal.reject_order"),
    ),
    (
        lazy_gettext("Marked labels printed"),
        ("products.mark_label_order_printed", "products_portal.mark_printed"),
    ),
    (
        lazy_gettext("Activated labels"),
        ("products.activate_label_order", "products_portal.activate_order"),
    ),
    (
        lazy_gettext("Cancelled a label order"),
        ("products.cancel_label_order", "products_portal.cancel_order"),
    ),
    (
        lazy_gettext("Blocked a label order"),
        ("products.blacklist_label_order", "products_portal.blacklist_order"),
    ),
    (
        lazy_gettext("Blocked a label"),
        ("products.blacklist_unit", "products_portal.blacklist_unit"),
    ),
    (
        lazy_gettext("Changed the label policy"),
        ("products.set_label_policy", "products_portal.set_label_policy"),
    ),
    # Scans
    (
        lazy_gettext("Resolved a scan alert"),
        ("resolver.resolve_alert", "resolver_portal.resolve_alert"),
    ),
    (
        lazy_gettext("Reviewed a report of a fake"),
        ("resolver.review_report", "resolver_portal.review_report"),
    ),
    (lazy_gettext("Changed a scan rule"), ("resolver.set_rule", "resolver_portal.set_scan_rule")),
    # Traceability
    (
        lazy_gettext("Recorded traceability events"),
        ("trace.capture", "trace_portal.new_event", "trace_portal.upload"),
    ),
    (
        lazy_gettext("Registered a location"),
        ("trace.register_location", "trace_portal.new_location"),
    ),
    (lazy_gettext("Closed a location"), ("trace.deactivate_location",)),
    (lazy_gettext("Authorised a partner"), ("trace.authorise_partner",)),
    (lazy_gettext("Revoked a partner's authorisation"), ("trace.revoke_partner",)),
    (lazy_gettext("Placed a recall"), ("trace.place_recall", "trace_portal.new_recall")),
    (lazy_gettext("Lifted a recall"), ("trace.lift_recall", "trace_portal.lift_recall")),
]
_LABELS = {endpoint: label for label, endpoints in _GROUPS for endpoint in endpoints}
_SAME = {endpoint: endpoints for _, endpoints in _GROUPS for endpoint in endpoints}


def known_actions() -> frozenset[str]:
    return frozenset(_LABELS)


def action_choices() -> list[tuple[str, str]]:
    """One choice per label (its first endpoint stands for the group), in label order."""
    return sorted(
        ((endpoints[0], str(label)) for label, endpoints in _GROUPS), key=lambda item: item[1]
    )


def same_action(action: str) -> tuple[str, ...]:
    """The endpoints that share ``action``'s label (the API's and the portal's)."""
    return _SAME.get(action, (action,))


def action_label(action: str) -> str:
    """The action in words in the page language; unknown endpoints get a generic label."""
    label = _LABELS.get(action)
    if label is not None:
        return str(label)
    if action.startswith("cli:"):
        return gettext("Command-line task")
    return gettext("Other change")
