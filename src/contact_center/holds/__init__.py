"""Legal holds (docs/data-lifecycle.md, "Legal hold"): data under a hold is never purged and
never deleted on a data subject's request."""
