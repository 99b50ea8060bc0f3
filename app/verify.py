"""Offline verifier: ``python -m app.verify --credential c.json --did did.json
--status-list rev.json --status-list susp.json``, or for a printed label
``python -m app.verify --label '<URI from the QR code>' --did did.json``.

No network and no database: the DID documents and status list credentials are files you saved
earlier (``/orgs/<slug>/did.json`` and the URLs in the credential's ``credentialStatus``).
did:key issuers need no DID document. It runs the same checks as the service's
``POST /api/v1/verify/credential`` and reaches the same verdict, except that the register and
the published standards cannot be consulted offline (those two checks are skipped).

A signed label (an order placed with offline-verifiable labels) carries ``?sig=`` in its
URI: a compact Ed25519 signature by the association's key over GTIN, lot, serial and key id
(app.certificates.compact). ``--label`` checks it against the keys of the saved DID document;
it proves the association issued that code, not that the label is still active (only the
online resolver knows about activation, blacklisting and recalls). Given both ``--credential``
and ``--label``, both are checked and the verdict is valid only if both are.

Exit status: 0 valid, 1 invalid, 2 indeterminate (a needed document was not given) or a
usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.certificates.verifier import (
    CheckStatus,
    OfflineResolver,
    Verdict,
    Verifier,
    label_key_revoked,
)

EXIT_CODES = {Verdict.VALID: 0, Verdict.INVALID: 1, Verdict.INDETERMINATE: 2}
_MARKS = {
    CheckStatus.PASS: "ok  ",
    CheckStatus.FAIL: "FAIL",
    CheckStatus.SKIP: "skip",
    CheckStatus.UNKNOWN: "??  ",
}


class UsageError(Exception):
    """A file named on the command line cannot be used."""


def _load_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read the {what} {path}: {error.strerror}") from None
    except ValueError as error:
        raise UsageError(f"the {what} {path} is not JSON: {error}") from None
    except RecursionError:
        raise UsageError(f"the {what} {path} is not JSON: nested too deeply") from None


def _kind(document: dict[str, Any]) -> str | None:
    """What a saved file looks like (None: none of the documents the verifier reads)."""
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    if "BitstringStatusListCredential" in types:
        return "a status list credential"
    if "VerifiableCredential" in types:
        return "a credential"
    if str(document.get("id")).startswith("did:") and "verificationMethod" in document:
        return "a DID document"
    return None


def _check_kinds(paths: Sequence[str], documents: Sequence[Any], wanted: str, hint: str) -> None:
    """Refuse a file given in the wrong place, naming what it is: otherwise the verifier
    would only say that the document it needs was not given."""
    for path, document in zip(paths, documents, strict=True):
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise UsageError(f"{path} is not a JSON object with an id: {hint}")
        kind = _kind(document)
        if kind != wanted:
            found = f" (it is {kind})" if kind else ""
            raise UsageError(f"{path} is not {wanted}{found}: {hint}")


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a time zone (e.g. Z)")
    return moment.astimezone(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.verify",
        description="Verify a brandtrace certificate (or any eddsa-jcs-2022 VC) offline.",
    )
    parser.add_argument("--credential", help="the credential JSON file")
    parser.add_argument("--label", help="a label's URI (as decoded from its QR code)")
    parser.add_argument(
        "--did", action="append", default=[], help="a DID document file (repeatable)"
    )
    parser.add_argument(
        "--status-list",
        action="append",
        default=[],
        help="a status list credential file (repeatable: revocation and suspension)",
    )
    parser.add_argument(
        "--at", type=_parse_time, default=None, help="verify as of this time (default: now)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def verify_label(
    uri: str, did_documents: Sequence[Any], *, now: datetime | None = None
) -> tuple[bool, str]:
    """Check a signed label's compact signature against the DID documents' keys.

    Returns (valid, message). Every assertion key of the documents is tried, so labels signed
    before a key rotation still verify; a key revoked by ``now`` (default: the present) does
    not count, nor does one whose revocation date cannot be read.
    """
    from app.certificates.compact import verify_compact
    from app.certificates.multibase import MultibaseError, decode_ed25519_multikey
    from app.gs1.digital_link import parse_digital_link
    from app.gs1.identifiers import GS1SyntaxError

    try:
        link = parse_digital_link(uri)
    except GS1SyntaxError as error:
        return False, f"not a valid GS1 Digital Link: {error}"
    signatures = [value for name, value in link.other_params if name == "sig"]
    if len(signatures) != 1:
        return False, "the label carries no signature (sig=...): it can only be checked online"
    now = now or datetime.now(UTC)
    for document in did_documents:
        methods = document.get("verificationMethod")
        for method in methods if isinstance(methods, list) else []:
            if not isinstance(method, dict) or not isinstance(method.get("id"), str):
                continue
            try:
                public_key = decode_ed25519_multikey(str(method.get("publicKeyMultibase", "")))
            except MultibaseError:
                continue
            if not verify_compact(
                signatures[0],
                public_key,
                gtin=link.gtin,
                lot=link.lot,
                serial=link.serial,
                key_id=method["id"],
            ):
                continue
            revoked = method.get("revoked")
            if revoked is not None:
                try:
                    revoked_at = datetime.fromisoformat(str(revoked).replace("Z", "+00:00"))
                    if revoked_at.tzinfo is None:
                        raise ValueError("no time zone")
                except ValueError:
                    return False, (
                        f"signed by {method['id']}, a key marked revoked on a date that cannot "
                        f"be read ({revoked!r}): check it online"
                    )
            if revoked is not None and label_key_revoked(revoked_at, now):
                # A label carries no signing time; the resolver's register knows when it was
                # issued, and may still vouch for a pack labelled before the revocation.
                return False, (
                    f"signed by {method['id']}, a key revoked on {revoked}; a label printed "
                    "before that date may still be genuine: check it online"
                )
            facts = f"GTIN {link.gtin}, lot {link.lot}, serial {link.serial}"
            return True, f"signed by {method['id']} ({facts})"
    return False, "the signature does not match any key of the given DID documents"


def _combined(verdicts: Sequence[Verdict]) -> Verdict:
    """One verdict for everything checked: any failure makes it invalid; otherwise any check
    that could not be made leaves it indeterminate."""
    if Verdict.INVALID in verdicts:
        return Verdict.INVALID
    if Verdict.INDETERMINATE in verdicts:
        return Verdict.INDETERMINATE
    return Verdict.VALID


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.credential is None and args.label is None:
        print("error: give --credential or --label", file=sys.stderr)
        return 2
    try:
        did_documents = [_load_json(path, "DID document") for path in args.did]
        status_lists = [_load_json(path, "status list") for path in args.status_list]
        credential_text = None
        _check_kinds(
            args.did,
            did_documents,
            "a DID document",
            "give the file saved from the issuer's /orgs/<slug>/did.json with --did",
        )
        _check_kinds(
            args.status_list,
            status_lists,
            "a status list credential",
            "give the files saved from the credential's statusListCredential URLs "
            "with --status-list",
        )
        if args.credential is not None:
            try:
                credential_text = Path(args.credential).read_bytes()
            except OSError as error:
                raise UsageError(
                    f"cannot read the credential {args.credential}: {error.strerror}"
                ) from None
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.label is not None and not did_documents:
        print("error: give the issuing association's DID document with --did", file=sys.stderr)
        return 2
    # Both given: both are checked, and the verdict is valid only if both are.
    verdicts: list[Verdict] = []
    result: dict[str, Any] = {}
    lines: list[str] = []
    if credential_text is not None:
        verifier = Verifier(OfflineResolver.from_documents(did_documents, status_lists))
        report = verifier.verify_json(credential_text, now=args.at)
        verdicts.append(report.verdict)
        result = report.as_dict()
        for check in report.checks:
            code = f" [{check.code}]" if check.code else ""
            lines.append(f"{_MARKS[check.status]} {check.name:24} {check.message}{code}")
    if args.label is not None:
        valid, message = verify_label(args.label, did_documents, now=args.at)
        verdicts.append(Verdict.VALID if valid else Verdict.INVALID)
        result["label"] = {"valid": valid, "message": message}
        lines.append(f"{'ok  ' if valid else 'FAIL'} {'label signature':24} {message}")
    verdict = _combined(verdicts)
    if args.json:
        result["verdict"] = verdict.value
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        print("\n".join([*lines, f"verdict: {verdict.value}"]))
    return EXIT_CODES[verdict]


if __name__ == "__main__":
    sys.exit(main())
