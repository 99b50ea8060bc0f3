"""Offline verifier: ``python -m app.verify --credential c.json --did did.json
--status-list rev.json --status-list susp.json``.

No network and no database: the DID documents and status list credentials are files you saved
earlier (``/orgs/<slug>/did.json`` and the URLs in the credential's ``credentialStatus``).
did:key issuers need no DID document. It runs the same checks as the service's
``POST /api/v1/verify/credential`` and reaches the same verdict, except that the register and
the published standards cannot be consulted offline (those two checks are skipped).

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

from app.certificates.verifier import CheckStatus, OfflineResolver, Verdict, Verifier

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
    parser.add_argument("--credential", required=True, help="the credential JSON file")
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        did_documents = [_load_json(path, "DID document") for path in args.did]
        status_lists = [_load_json(path, "status list") for path in args.status_list]
        for path, document in zip(
            [*args.did, *args.status_list], [*did_documents, *status_lists], strict=True
        ):
            if not isinstance(document, dict) or not isinstance(document.get("id"), str):
                raise UsageError(f"{path} is not a JSON object with an id")
        try:
            credential_text = Path(args.credential).read_bytes()
        except OSError as error:
            raise UsageError(
                f"cannot read the credential {args.credential}: {error.strerror}"
            ) from None
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    verifier = Verifier(OfflineResolver.from_documents(did_documents, status_lists))
    report = verifier.verify_json(credential_text, now=args.at)
    if args.json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        for check in report.checks:
            code = f" [{check.code}]" if check.code else ""
            print(f"{_MARKS[check.status]} {check.name:24} {check.message}{code}")
        print(f"verdict: {report.verdict.value}")
    return EXIT_CODES[report.verdict]


if __name__ == "__main__":
    sys.exit(main())
