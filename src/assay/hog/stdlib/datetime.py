"""Date and time functions over Hog ``Date`` and ``DateTime`` values."""

from __future__ import annotations

import calendar
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assay.hog.errors import HogRuntimeError
from assay.hog.stdlib.registry import ExecContext, arg, stl
from assay.hog.stdlib.values import is_hog_date, is_hog_datetime, js_string

_DATE_LIKE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(?:[.,]([0-9]{1,9}))?)?"
    r"(Z|z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?)?"
)


@lru_cache(maxsize=64)
def get_zone(name: str) -> tzinfo:
    """A timezone by IANA name (``UTC`` included); unknown names raise ``HogRuntimeError``."""
    if name in ("UTC", "utc", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise HogRuntimeError(f"Invalid timezone: {name}") from e


def new_datetime(seconds: float, zone: str = "UTC") -> dict[str, Any]:
    """A DateTime value."""
    return {"__hogDateTime__": True, "dt": seconds, "zone": zone or "UTC"}


def new_date(year: Any, month: Any, day: Any) -> dict[str, Any]:
    """A Date value."""
    return {"__hogDate__": True, "year": year, "month": month, "day": day}


def date_to_seconds(value: dict[str, Any]) -> float:
    """Epoch seconds of a Date at UTC midnight."""
    try:
        return float(calendar.timegm((int(value["year"]), int(value["month"]), int(value["day"]), 0, 0, 0)))
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _parse_date_like(text: Any, zone: str | None = None) -> float | None:
    if type(text) is not str:
        return None
    m = _DATE_LIKE.fullmatch(text.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    if year == "0000":
        return None
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    if offset:
        if offset in ("Z", "z"):
            tz: tzinfo = UTC
        else:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            tz = _fixed_offset(sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0)))
    else:
        tz = get_zone(zone or "UTC")
    try:
        dt = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            millis * 1000,
            tzinfo=tz,
        )
    except ValueError:
        return None
    return dt.timestamp()


def _fixed_offset(minutes: int) -> tzinfo:
    from datetime import timezone

    return timezone(timedelta(minutes=minutes))


def date_string_to_seconds(text: str) -> float | None:
    """Epoch seconds for a date-like string (``YYYY-MM-DD[ HH:MM[:SS[.fff]]][zone]``), else None."""
    return _parse_date_like(text)


def _to_datetime(value: dict[str, Any]) -> datetime:
    seconds = value["dt"]
    if type(seconds) not in (int, float) or seconds != seconds or math.isinf(seconds):
        raise HogRuntimeError("Invalid DateTime")
    return datetime.fromtimestamp(seconds, get_zone(str(value["zone"])))


def _as_datetime(value: Any) -> datetime:
    if is_hog_datetime(value):
        return _to_datetime(value)
    if is_hog_date(value):
        return datetime(int(value["year"]), int(value["month"]), int(value["day"]), tzinfo=UTC)
    seconds = _parse_date_like(value)
    if seconds is None:
        raise HogRuntimeError(f"Invalid date: {js_string(value)}")
    return datetime.fromtimestamp(seconds, UTC)


def datetime_to_iso(value: dict[str, Any]) -> str:
    """ISO-8601 text with milliseconds, ``Z`` for UTC, as ``toString(DateTime)`` prints it."""
    try:
        dt = _to_datetime(value)
    except HogRuntimeError:
        return "Invalid DateTime"
    text = dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{dt.microsecond // 1000:03d}"
    if dt.tzinfo is UTC:
        return text + "Z"
    offset = dt.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _from_dt(dt: datetime, zone: str) -> dict[str, Any]:
    return new_datetime(dt.timestamp(), zone)


@stl("now", 0, 1)
def _now(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    zone = arg(args, 0)
    return new_datetime(time.time(), zone if type(zone) is str else "UTC")


@stl("today", 0, 0)
def _today(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    return new_date(now.year, now.month, now.day)


@stl("toDateTime", 1, 2)
def _to_datetime_fn(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    value, zone = args[0], arg(args, 1)
    zone_name = zone if type(zone) is str and zone else "UTC"
    if type(value) in (int, float) and type(value) is not bool:
        return new_datetime(value, zone_name)
    seconds = _parse_date_like(value, zone_name)
    return new_datetime(math.nan if seconds is None else seconds, zone_name)


@stl("toDate", 1, 1)
def _to_date(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    value = args[0]
    if type(value) in (int, float) and type(value) is not bool:
        dt = datetime.fromtimestamp(value, UTC)
        return new_date(dt.year, dt.month, dt.day)
    seconds = _parse_date_like(value)
    if seconds is None:
        return new_date(math.nan, math.nan, math.nan)
    dt = datetime.fromtimestamp(seconds, UTC)
    return new_date(dt.year, dt.month, dt.day)


def to_unix_timestamp(value: Any, zone: Any = None) -> float:
    """Epoch seconds of a DateTime, Date or date-like string (NaN when it cannot be parsed)."""
    if is_hog_datetime(value):
        return value["dt"]
    if is_hog_date(value):
        return date_to_seconds(value)
    seconds = _parse_date_like(value, zone if type(zone) is str else None)
    return math.nan if seconds is None else seconds


@stl("toUnixTimestamp", 1, 2)
def _to_unix_timestamp(args: list[Any], ctx: ExecContext) -> float:
    return to_unix_timestamp(args[0], arg(args, 1))


@stl("toUnixTimestampMilli", 1, 2)
def _to_unix_timestamp_milli(args: list[Any], ctx: ExecContext) -> float:
    return to_unix_timestamp(args[0], arg(args, 1)) * 1000


@stl("fromUnixTimestamp", 1, 1)
def _from_unix_timestamp(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    return new_datetime(args[0])


@stl("fromUnixTimestampMilli", 1, 1)
def _from_unix_timestamp_milli(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    value = args[0]
    return new_datetime(value / 1000 if type(value) in (int, float) else math.nan)


@stl("toTimeZone", 2, 2)
def _to_time_zone(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    if not is_hog_datetime(args[0]):
        raise HogRuntimeError("Expected a DateTime")
    return {**args[0], "zone": args[1]}


_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _offset_text(dt: datetime) -> str:
    offset = dt.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _token(dt: datetime, token: str) -> str:
    h12 = dt.hour % 12 or 12
    table: dict[str, Callable[[], str]] = {
        "a": lambda: _WEEKDAYS[dt.weekday()][:3],
        "b": lambda: _MONTHS[dt.month - 1][:3],
        "c": lambda: f"{dt.month:02d}",
        "C": lambda: f"{dt.year % 100:02d}",
        "d": lambda: f"{dt.day:02d}",
        "D": lambda: f"{dt.month:02d}/{dt.day:02d}/{dt.year % 100:02d}",
        "e": lambda: str(dt.day),
        "f": lambda: f"{dt.microsecond // 1000:03d}",
        "F": lambda: f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}",
        "g": lambda: f"{dt.year % 100:02d}",
        "G": lambda: f"{dt.year:04d}",
        "h": lambda: f"{h12:02d}",
        "H": lambda: f"{dt.hour:02d}",
        "i": lambda: f"{dt.minute:02d}",
        "I": lambda: f"{h12:02d}",
        "j": lambda: f"{dt.timetuple().tm_yday:03d}",
        "k": lambda: f"{dt.hour:02d}",
        "l": lambda: f"{h12:02d}",
        "m": lambda: f"{dt.month:02d}",
        "M": lambda: _MONTHS[dt.month - 1],
        "n": lambda: "\n",
        "p": lambda: "AM" if dt.hour < 12 else "PM",
        "Q": lambda: str((dt.month - 1) // 3 + 1),
        "r": lambda: f"{h12:02d}:{dt.minute:02d} {'AM' if dt.hour < 12 else 'PM'}",
        "R": lambda: f"{dt.hour:02d}:{dt.minute:02d}",
        "s": lambda: f"{dt.second:02d}",
        "S": lambda: f"{dt.second:02d}",
        "t": lambda: "\t",
        "T": lambda: f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}",
        "u": lambda: str(dt.isoweekday()),
        "V": lambda: f"{dt.isocalendar()[1]:02d}",
        "w": lambda: str(dt.isoweekday()),
        "W": lambda: _WEEKDAYS[dt.weekday()],
        "y": lambda: f"{dt.year % 100:02d}",
        "Y": lambda: f"{dt.year:04d}",
        "z": lambda: _offset_text(dt),
        "%": lambda: "%",
    }
    fn = table.get(token)
    return fn() if fn else ""


def format_datetime(value: Any, fmt: Any, zone: Any = None) -> str:
    """``formatDateTime(dt, format[, zone])`` with ClickHouse ``%`` tokens."""
    if not is_hog_datetime(value):
        raise HogRuntimeError("Expected a DateTime")
    if not fmt:
        raise HogRuntimeError("formatDateTime requires at least 2 arguments")
    fmt = js_string(fmt)
    zone_name = zone if type(zone) is str and zone else str(value["zone"])
    dt = _to_datetime({**value, "zone": zone_name})
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            i += 1
            if i < len(fmt):
                out.append(_token(dt, fmt[i]))
        else:
            out.append(fmt[i])
        i += 1
    return "".join(out)


@stl("formatDateTime", 2, 3)
def _format_datetime(args: list[Any], ctx: ExecContext) -> str:
    return format_datetime(args[0], args[1], arg(args, 2))


def _add_months(dt: datetime, months: int) -> datetime:
    total = dt.year * 12 + (dt.month - 1) + months
    year, month = divmod(total, 12)
    day = min(dt.day, calendar.monthrange(year, month + 1)[1])
    return dt.replace(year=year, month=month + 1, day=day)


def _apply_interval(base: Any, amount: Any, unit: Any) -> dict[str, Any]:
    if not (is_hog_datetime(base) or is_hog_date(base)):
        raise HogRuntimeError("Expected a Date or DateTime")
    zone = str(base["zone"]) if is_hog_datetime(base) else "UTC"
    dt = _as_datetime(base)
    value = amount
    if type(value) not in (int, float):
        raise HogRuntimeError(f"Invalid interval amount: {js_string(value)}")
    if unit == "week":
        unit, value = "day", value * 7
    elif unit == "year":
        unit, value = "month", value * 12
    if unit == "day":
        local = dt.replace(tzinfo=None) + timedelta(days=value)
        new = local.replace(tzinfo=dt.tzinfo)
    elif unit == "hour":
        new = dt + timedelta(hours=value)
    elif unit == "minute":
        new = dt + timedelta(minutes=value)
    elif unit == "second":
        new = dt + timedelta(seconds=value)
    elif unit == "month":
        new = _add_months(dt, int(value))
    else:
        raise HogRuntimeError(f"Unsupported interval unit: {js_string(unit)}")
    if is_hog_datetime(base):
        return new_datetime(new.timestamp(), zone)
    return new_date(new.year, new.month, new.day)


@stl("dateAdd", 3, 3)
def _date_add(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    return _apply_interval(args[2], args[1], args[0])


@stl("addDays", 2, 2)
def _add_days(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    return _apply_interval(args[0], args[1], "day")


@stl("dateDiff", 3, 3)
def _date_diff(args: list[Any], ctx: ExecContext) -> int:
    unit = args[0]
    start, end = _as_datetime(args[1]), _as_datetime(args[2])
    seconds = end.timestamp() - start.timestamp()
    if unit == "day":
        return math.floor(seconds / 86400)
    if unit == "hour":
        return math.floor(seconds / 3600)
    if unit == "minute":
        return math.floor(seconds / 60)
    if unit == "second":
        return math.floor(seconds)
    if unit == "week":
        return math.floor(seconds / 86400 / 7)
    if unit == "month":
        return (end.year - start.year) * 12 + (end.month - start.month)
    if unit == "year":
        return end.year - start.year
    raise HogRuntimeError(f"Unsupported unit for dateDiff: {js_string(unit)}")


def _truncate(value: Any, unit: str) -> dict[str, Any]:
    if not is_hog_datetime(value):
        raise HogRuntimeError("Expected a DateTime for dateTrunc")
    dt = _to_datetime(value)
    if unit == "year":
        dt = dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "month":
        dt = dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "day":
        dt = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "hour":
        dt = dt.replace(minute=0, second=0, microsecond=0)
    elif unit == "minute":
        dt = dt.replace(second=0, microsecond=0)
    else:
        raise HogRuntimeError(f"Unsupported unit for dateTrunc: {js_string(unit)}")
    return new_datetime(dt.timestamp(), str(value["zone"]))


@stl("dateTrunc", 2, 3)
def _date_trunc(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    return _truncate(args[1], args[0])


def _as_hog_datetime(value: Any) -> dict[str, Any]:
    if is_hog_datetime(value):
        return value
    if is_hog_date(value):
        return new_datetime(date_to_seconds(value), "UTC")
    raise HogRuntimeError("Expected a Date or DateTime")


@stl("toStartOfDay", 1, 2)
def _start_of_day(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    return _truncate(_as_hog_datetime(args[0]), "day")


@stl("toStartOfHour", 1, 1)
def _start_of_hour(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    return _truncate(_as_hog_datetime(args[0]), "hour")


@stl("toStartOfMonth", 1, 1)
def _start_of_month(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    return _truncate(_as_hog_datetime(args[0]), "month")


@stl("toStartOfWeek", 1, 2)
def _start_of_week(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    value = _as_hog_datetime(args[0])
    dt = _to_datetime(value)
    local = dt.replace(tzinfo=None) - timedelta(days=dt.weekday())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0).replace(tzinfo=dt.tzinfo)
    return new_datetime(start.timestamp(), str(value["zone"]))


def _extract(part: Any, value: Any) -> int:
    dt = _as_datetime(value)
    if part == "year":
        return dt.year
    if part == "month":
        return dt.month
    if part == "day":
        return dt.day
    if part == "hour":
        return dt.hour
    if part == "minute":
        return dt.minute
    if part == "second":
        return dt.second
    raise HogRuntimeError(f"Unknown extract part: {js_string(part)}")


@stl("extract", 2, 2)
def _extract_fn(args: list[Any], ctx: ExecContext) -> int:
    return _extract(args[0], args[1])


@stl("toYear", 1, 1)
def _to_year(args: list[Any], ctx: ExecContext) -> int:
    return _extract("year", args[0])


@stl("toMonth", 1, 1)
def _to_month(args: list[Any], ctx: ExecContext) -> int:
    return _extract("month", args[0])


@stl("toYYYYMM", 1, 1)
def _to_yyyymm(args: list[Any], ctx: ExecContext) -> int:
    return _extract("year", args[0]) * 100 + _extract("month", args[0])


def _interval(unit: str) -> None:
    @stl("toInterval" + unit.capitalize(), 1, 1)
    def _fn(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
        return {"__hogInterval__": True, "value": args[0], "unit": unit}


for _unit in ("day", "hour", "minute", "month"):
    _interval(_unit)
