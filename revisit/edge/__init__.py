"""Lean ASGI handlers for the two paths where bytes must not pass through Django's request
cycle: resumable uploads (sealed as they arrive) and media streaming (decrypted per range)."""
