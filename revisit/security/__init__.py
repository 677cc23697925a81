"""Hardening: response headers, start-up checks of the configuration, authorization tests."""
