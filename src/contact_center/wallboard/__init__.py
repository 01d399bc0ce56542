"""The wallboard (docs/service-levels.md, "The wallboard"): each team's queue, people and
service levels now, for a large screen and `GET /api/metrics/wallboard`."""
