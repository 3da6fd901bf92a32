"""python-dateutil's rrule as the reference for the recurrence engine's differential test.

Reads a JSON list of cases on stdin, writes a JSON list of results on stdout (same order), all in
one process. A case: {"rrule", "dtstart": "YYYY-MM-DDTHH:MM:SS" (wall-clock), "zone" (IANA) or
null for an all-day series, "n", "horizon" (last year looked at)}. A result: {"occurrences": the
first n, "uncounted": the first n with COUNT left out, "dtstartInSet": whether DTSTART is itself an
occurrence of the rule, and with "periodStart": "fromPeriodStart", the occurrences without COUNT of
the rule started at that time instead, from DTSTART on} or {"error": text}.

A timed DTSTART is an aware datetime in its zone (fold=0), so dateutil expands the rule on local
wall-clock time and each occurrence maps to an instant as RFC 5545 maps a DTSTART with TZID: a
local time in a DST gap with the offset before the gap (it moves forward), one in a fold to the
first instant. Occurrences are written as UTC instants (timed) or dates (all-day).
"""
import datetime as datetime_module
import json
import re
import sys
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr


# A rule without COUNT or UNTIL is expanded once for all three readings of it below: the costly
# rules are those that match rarely or never, walked to the horizon each time.
@lru_cache(maxsize=64)
def expand(rule, dtstart, n, horizon):
    # dateutil gives up on a rule that never matches only past datetime.MAXYEAR, after iterating
    # every period up to year 9999; the horizon is where both sides stop looking.
    datetime_module.MAXYEAR = horizon
    out = []
    for dt in rrulestr(rule, dtstart=dtstart):
        if dt.year > horizon or len(out) >= n:
            break
        out.append(dt)
    return tuple(out)


def show(dt, all_day):
    if all_day:
        return dt.date().isoformat()
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(case):
    all_day = case["zone"] is None
    dtstart = datetime.fromisoformat(case["dtstart"])
    if not all_day:
        dtstart = dtstart.replace(tzinfo=ZoneInfo(case["zone"]), fold=0)
    rule = case["rrule"]
    n, horizon = case["n"], case["horizon"]
    without_count = re.sub(r"(^|;)COUNT=\d+", "", rule).lstrip(";")
    unbounded = re.sub(r"(^|;)UNTIL=[0-9TZ]+", "", without_count).lstrip(";")
    first = expand(unbounded, dtstart, n, horizon)[:1]
    result = {
        "occurrences": [show(d, all_day) for d in expand(rule, dtstart, n, horizon)],
        "uncounted": [show(d, all_day) for d in expand(without_count, dtstart, n, horizon)],
        "dtstartInSet": bool(first) and first[0] == dtstart,
    }
    if case.get("periodStart"):
        # dateutil's first week starts at DTSTART, so BYSETPOS counts only the days from there; from
        # the week's first day it sees the whole week, as RFC 5545 does. The caller drops what
        # falls before DTSTART.
        period_start = datetime.fromisoformat(case["periodStart"]).replace(tzinfo=dtstart.tzinfo, fold=0)
        result["fromPeriodStart"] = [show(d, all_day) for d in expand(without_count, period_start, n + 7, horizon) if d >= dtstart]
    return result


def main():
    results = []
    for case in json.load(sys.stdin):
        try:
            results.append(run(case))
        except Exception as e:  # a rule dateutil refuses is reported, not fatal
            results.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
