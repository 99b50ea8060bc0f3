"""Who is on the other end of a request."""

from flask import request


def client_address() -> str:
    """The client's IP address (``ProxyFix`` has already applied trusted proxy headers)."""
    return request.remote_addr or "unknown"


def account_or_address() -> str:
    """A rate-limit key for guesses made from inside an account (the current password when
    changing it): the account, so that a stolen token or session cannot spread its guesses
    over many addresses, else the client's address."""
    from app.errors import AppError
    from app.http.api import resolve_caller

    try:
        caller = resolve_caller()
    except AppError:
        caller = None
    return f"account:{caller.user_id}" if caller is not None else client_address()
