"""Beijing time: the clock Chinese government sites print and the 19号 rules count days in.

Stored timestamps are timezone-aware (govcheck.store.schema.Timestamp); a naive datetime
anywhere in govcheck means Beijing time. China has kept UTC+8 without daylight saving since
1991, so a fixed offset needs no tz database.
"""

from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")


def now() -> dt.datetime:
    """The current time in Beijing, timezone-aware."""
    return dt.datetime.now(BEIJING)


def as_beijing(value: dt.datetime) -> dt.datetime:
    """An aware datetime in Beijing time; a naive one is taken as Beijing time already."""
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value.astimezone(BEIJING)
