"""Shared test support: named actors, generated sessions and real services for the test suite."""
