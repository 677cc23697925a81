"""End-to-end journeys in a real browser (Debian Chromium) against a real server and worker.

The modules here are the parts those journeys share: starting the stack (`stack`), driving the
browser (`browser`), checking accessibility (`accessibility`), measuring the player
(`performance`) and writing what a run found to the reports folder (`reports`). The journeys
themselves are the tests under `revisit/e2e/tests/` (marker `e2e`).
"""
