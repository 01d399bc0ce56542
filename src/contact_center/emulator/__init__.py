"""A faithful local stand-in for the providers' HTTP APIs, for the demo and the tests."""
