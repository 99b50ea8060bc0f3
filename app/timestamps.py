"""UTC timestamps written as text, for the hot paths that write several per record.

Pure module (standard library only). ``datetime.isoformat`` with its arguments costs a few
microseconds a call; an issuance batch writes four timestamps per certificate (the credential's
``validFrom``/``validUntil`` and their database values), so the date is spelled once per day
and the time of day is looked up.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

_MINUTES = tuple(f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60))
_SECONDS = tuple(f"{second:02d}" for second in range(60))


@functools.lru_cache(maxsize=1024)
def _day(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def utc_seconds(utc: datetime, separator: str) -> str:
    """``YYYY-MM-DD<separator>HH:MM:SS`` of a datetime already in UTC (the fields as they are,
    four-digit zero-padded year as ``isoformat`` writes it; a leap second is not a datetime)."""
    return (
        f"{_day(utc.toordinal())}{separator}"
        f"{_MINUTES[utc.hour * 60 + utc.minute]}:{_SECONDS[utc.second]}"
    )
