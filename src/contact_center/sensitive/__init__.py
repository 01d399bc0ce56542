"""What redaction removed, for those allowed to see it: the audited reveal of a vault token, a
conversation's proofs, and an auditor's confirmation of a known original (docs/redaction.md,
"Reveal, proofs and recordings").

Its own package, above the domains it reads: `redaction` (the pure mechanism and its tables) is
below `keys`, which the web runtime holds, so the routes that need the runtime, the caller's
scope and the audit log cannot live there without a cycle.
"""
