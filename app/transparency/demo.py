"""Demo step: start the transparency log and describe it in ``demo seed --json``.

The log's first entry is its own key (``key.added``); the other capabilities' demo steps append
entries for their records through ``append_entry``, like their services do.
"""

from __future__ import annotations

from app.demo.seed import DemoContext
from app.transparency import services


def seed_log(ctx: DemoContext) -> None:
    """Start the log (idempotent) and add ``log`` to the result.

    Entries appended by any step are integrated when the demo's transaction commits.
    """
    key = services.ensure_log(ctx.session)
    services.integrate(ctx.session)
    ctx.result["log"] = {
        "origin": key.origin,
        "vkey": services.log_vkey(key),
        "checkpoint_url": f"{ctx.base_url}/log/checkpoint",
    }
