"""A faithful local stand-in for the providers' HTTP APIs (SPEC §6), for the demo and the tests."""
