"""Long-lived worker threads for the edge handlers' synchronous (database) work.

Fixed pools, rather than the event loop's default executor, so each thread keeps its database
connection between requests (closed when obsolete by `close_old_connections`) and a burst of
media requests cannot crowd out uploads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

# Authorization of media requests: short database work per request.
MEDIA = ThreadPoolExecutor(max_workers=8, thread_name_prefix="revisit-media-db")
# Upload requests: a thread for the whole request, as the body streams into sealed chunks.
UPLOADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="revisit-upload")
