"""Calendar periods of the scheme, in Asia/Shanghai (I5): every app counts a year the same way."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A calendar year in the scheme's time zone (I5), as aware datetimes [start, end)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
