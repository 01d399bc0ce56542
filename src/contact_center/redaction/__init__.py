"""Sensitive data out of transcripts and messages: detectors and redaction (docs/redaction.md)."""
