"""Loaded first by pytest (`-p revisit.testing.env`): an isolated, initialized data folder per run.

It runs before Django's settings are imported, so every test process uses its own temporary data
folder, secret and key file, and nothing touches a developer's ./var or reaches a model hub.
"""

from __future__ import annotations

import os
import tempfile

if not os.environ.get("REVISIT_TEST_KEEP_ENV"):
    os.environ["REVISIT_DATA_DIR"] = tempfile.mkdtemp(prefix="revisit-test-data-")
    os.environ.pop("REVISIT_KEY_FILE", None)
    os.environ.pop("REVISIT_SECRET_KEY_FILE", None)
    os.environ["REVISIT_SECRET_KEY"] = "test-only-secret-key-not-for-production-0123456789abcdef"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["REVISIT_TESTING"] = "1"
# Close database connections after each request, so edge-handler threads hold none when the
# test database is dropped.
os.environ["REVISIT_DB_CONN_MAX_AGE_S"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revisit.settings")

from revisit.audit.guard import allow_test_flush
from revisit.datadir import data_dir_from_env, init_data_dir

init_data_dir(data_dir_from_env())

# The audit tables refuse DELETE (database triggers); only the suite's own flush between
# transactional tests may empty them. Production processes never load this module.
allow_test_flush()
