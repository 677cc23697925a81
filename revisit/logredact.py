"""A logging filter that keeps secrets out of log lines, whatever a library chose to log."""

from __future__ import annotations

import logging
import re

# API tokens, invitation keys in paths, and query strings (which may carry anything) are removed.
_PATTERNS = [
    (re.compile(r"rvt_[A-Za-z0-9_\-]+"), "rvt_[redacted]"),
    (re.compile(r"/invite/[A-Za-z0-9_\-]{8,}"), "/invite/[redacted]"),
    (re.compile(r"(/[A-Za-z0-9_\-./]*)\?[^\s\"']*"), r"\1?[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
