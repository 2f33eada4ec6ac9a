"""HTTP-shaped request and response values, independent of any web framework.

The emulated APIs are plain functions from an ``ApiRequest`` to an ``ApiResponse``
so that their rules can be unit tested without a server, while the Flask layer
only copies bytes in and out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiRequest:
    """One call as it arrived: ``path`` is relative to the platform's base URL."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Header lookup ignoring case, as HTTP does."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` when it is not JSON."""
        return json.loads(self.body.decode("utf-8") or "null")


@dataclass
class ApiResponse:
    """What the emulator answers: JSON (``payload``) or raw bytes (``content``)."""

    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    content_type: str = "application/json"

    def body_bytes(self) -> bytes:
        if self.content is not None:
            return self.content
        return json.dumps(self.payload, ensure_ascii=False).encode("utf-8")
