"""The fixed histogram buckets durations are counted in, and percentiles read from them.

Bucket i holds durations d with BOUNDS[i-1] < d <= BOUNDS[i] (seconds); the last bucket
(bound None) holds everything above the last bound. A percentile is the upper bound of the
bucket holding the nearest-rank value: exact to the bucket, the same over any range of days.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping

# Seconds: 10 s steps for quick answers, minutes, hours, then days (resolution times).
BOUNDS: tuple[int, ...] = (
    10,
    20,
    30,
    45,
    60,
    90,
    120,
    180,
    240,
    300,
    420,
    600,
    900,
    1200,
    1800,
    2700,
    3600,
    5400,
    7200,
    10800,
    14400,
    21600,
    28800,
    43200,
    86400,
    172800,
    259200,
    432000,
    604800,
)
# The overflow bucket (above a week) has no upper bound.
OVERFLOW = len(BOUNDS)
METRICS = ("first_response", "next_response", "resolution", "handle")


def bucket_of(secs: float) -> int:
    """The index of the bucket holding a duration (negative durations count as 0)."""
    return bisect.bisect_left(BOUNDS, max(0.0, secs))


def upper_bound(bucket: int) -> int | None:
    return BOUNDS[bucket] if bucket < OVERFLOW else None


def percentile(counts: Mapping[int, int], p: float) -> int | None:
    """The upper bound of the bucket holding the nearest-rank `p` percentile (0 < p ≤ 100) of
    the durations counted in `counts` (bucket → count); None when nothing was counted or the
    value lies in the overflow bucket."""
    n = sum(counts.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return upper_bound(bucket)
    return None  # pragma: no cover - the ranks add up to n
