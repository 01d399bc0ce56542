"""Contact center for banks: calls, WhatsApp and SMS in one model of interactions."""

__version__ = "0.1.0"
