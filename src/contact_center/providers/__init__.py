"""The only package that knows the vendors: clients, webhook verification and payload parsing."""
