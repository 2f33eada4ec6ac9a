"""Six-digit codes that link a shopper's browser to their chat.

The storefront widget asks for a code for its visitor; the shopper types it
into the shop's LINE or Messenger chat; the chat side consumes it and learns
which visitor is talking. Codes live only in Redis and only for minutes.

Six digits are a small space, so the code itself is never stored: Redis holds
an HMAC of it under the server's secret, and a dump of Redis does not reveal
which codes are live. Consuming is a single ``GETDEL``, so of any number of
simultaneous attempts exactly one gets the visitor. Guessing is slowed by the
per-chat-user failure limit in ``flows.rate_limits``.

The chat uses ``attempt``: one Lua script checks the chat user's lockout,
consumes the code, and either clears the user's failures and returns the claim
or counts a failure, so a typed code costs one Redis round trip.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import redis

from commerce.identity import Channel
from flows.keys import KeyBuilder
from flows.rate_limits import FAILURE_LUA, AttemptLimiter, Subject, from_ms_epoch

CODE_KIND = "binding:code"
ISSUE_KIND = "binding:issue"
DEFAULT_TTL_SECONDS = 600
# How long after expiry the widget can still learn "expired" rather than "unknown".
DEFAULT_RETENTION_SECONDS = 3600
MAX_DRAWS = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

BindingStatus = Literal["pending", "bound", "expired", "unknown"]

_CODE_SHAPE = re.compile(r"\s*(?:[0-9]\s*){6}", re.ASCII)
_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def normalize_code(text: str) -> str | None:
    """The six ASCII digits of a typed code, or None if ``text`` is not one.

    NFKC first, so full-width digits and ideographic spaces from a Chinese
    keyboard count; spaces around and between the digits are allowed; any
    other character (dashes, letters, a seventh digit) makes it not a code.
    """
    folded = unicodedata.normalize("NFKC", text)
    if not _CODE_SHAPE.fullmatch(folded):
        return None
    return "".join(ch for ch in folded if ch.isdigit())


@dataclass(frozen=True)
class IssuedCode:
    """The only place the code appears in clear: handed to the widget once."""

    id: str
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class CodeClaim:
    """Who asked for a code that a chat user has just consumed."""

    id: str
    visitor_id: str
    channel: Channel
    expires_at: datetime


@dataclass(frozen=True)
class CodeAttempt:
    """What one typed code did.

    ``claimed``: the code was live; ``claim`` says whose it was and ``member_ref``
    is the shop's member reference from the issue's details, if any. ``wrong``: not
    a live code; ``locked_until`` is set if this miss locked the chat user out.
    ``locked``: the user was already locked out and the code was not looked at.
    """

    outcome: Literal["claimed", "wrong", "locked"]
    locked_until: datetime | None = None
    claim: CodeClaim | None = None
    member_ref: str | None = None


@dataclass(frozen=True)
class CodeStatus:
    status: BindingStatus
    expires_at: datetime | None = None
    bound: dict[str, Any] | None = None


class CodeSpaceExhausted(RuntimeError):
    """Every drawn code collided with a live one: far more live codes than expected."""


_ISSUE = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], 'visitor_id', ARGV[4], 'channel', ARGV[5],
           'expires_at', ARGV[6], 'expires_us', ARGV[7], 'status', 'pending')
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

# KEYS: the failure log and lockout (AttemptLimiter.failure_call), then the code's
# key unless the text was no code at all. ARGV[1..5]: failure_call's; ARGV[6]: the
# issue key without its id; ARGV[7]: the same for the issue details ('' for none);
# ARGV[8]: now by the registry's clock, in microseconds like expires_us (exact in
# Lua's doubles until 2255), so the expiry compares as consume's datetimes do. The
# issue and details keys are built here from the id the code names, so this assumes
# a single Redis (not Cluster). A record without expires_us was issued before that
# field existed; the code key, which expires with it, being alive then says it has
# not expired.
_ATTEMPT = FAILURE_LUA + """
local locked_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if locked_until > tonumber(ARGV[1]) then return {'locked', locked_until} end
if KEYS[3] then
  local issue_id = redis.call('GETDEL', KEYS[3])
  if issue_id then
    local issue = redis.call('HMGET', ARGV[6] .. issue_id,
                             'status', 'expires_us', 'visitor_id', 'channel', 'expires_at')
    if issue[1] == 'pending' and (not issue[2] or tonumber(issue[2]) > tonumber(ARGV[8])) then
      redis.call('DEL', KEYS[1])
      local member_ref = false
      if ARGV[7] ~= '' then
        member_ref = redis.call('HGET', ARGV[7] .. issue_id, 'member_ref')
      end
      return {'claimed', 0, issue_id, issue[3], issue[4], issue[5], member_ref or ''}
    end
  end
end
return {'wrong', count_failure()}
"""

_MARK_BOUND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', 'bound', 'bound', ARGV[1])
return 1
"""


def _random_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class BindingCodeRegistry:
    """Issues, reports on and consumes binding codes; Redis is the only store."""

    def __init__(
        self,
        client: redis.Redis,
        secret: bytes,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        clock: Callable[[], datetime] = _utc_now,
        *,
        keys: KeyBuilder | None = None,
        retention_seconds: int = DEFAULT_RETENTION_SECONDS,
        draw_code: Callable[[], str] = _random_code,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the binding-code secret needs at least 16 bytes")
        if ttl_seconds <= 0:
            raise ValueError("codes need a positive lifetime")
        self._redis = client
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)
        self._retention = timedelta(seconds=retention_seconds)
        self._clock = clock
        self._keys = keys or KeyBuilder()
        self._draw = draw_code
        self._issue = client.register_script(_ISSUE)
        self._mark_bound = client.register_script(_MARK_BOUND)
        self._attempt = client.register_script(_ATTEMPT)

    def _code_key(self, code: str) -> str:
        digest = hmac.new(self._secret, code.encode(), hashlib.sha256).hexdigest()
        return self._keys.build(CODE_KIND, digest)

    def issue(self, visitor_id: str, channel: Channel) -> IssuedCode:
        """A fresh code for ``visitor_id``, distinct from every live code."""
        if not visitor_id:
            raise ValueError("a binding code needs a visitor id")
        channel = Channel(channel)
        issue_id = secrets.token_urlsafe(16)
        expires_at = self._clock() + self._ttl
        args = [
            issue_id,
            _ms(self._ttl),
            _ms(self._ttl + self._retention),
            visitor_id,
            channel.value,
            expires_at.isoformat(),
            _us_epoch(expires_at),
        ]
        for _ in range(MAX_DRAWS):
            code = self._draw()
            keys = [self._code_key(code), self._keys.build(ISSUE_KIND, issue_id)]
            if self._issue(keys=keys, args=args):
                return IssuedCode(issue_id, code, expires_at)
        raise CodeSpaceExhausted(f"no free code after {MAX_DRAWS} draws")

    def status(self, issue_id: str) -> CodeStatus:
        """What the widget polls: pending, bound (with what ``mark_bound`` set),
        expired, or unknown (never issued, or long gone)."""
        if not _ID_SHAPE.fullmatch(issue_id):
            return CodeStatus("unknown")
        record = _text_map(self._redis.hgetall(self._keys.build(ISSUE_KIND, issue_id)))
        if not record:
            return CodeStatus("unknown")
        expires_at = datetime.fromisoformat(record["expires_at"])
        if record["status"] == "bound":
            return CodeStatus("bound", expires_at, json.loads(record["bound"]))
        if expires_at <= self._clock():
            return CodeStatus("expired", expires_at)
        return CodeStatus("pending", expires_at)

    def consume(self, code: str) -> CodeClaim | None:
        """Use up ``code`` (as typed) and say whose it was; None if it is not a
        live code. A code works once, whoever tries it and however often."""
        digits = normalize_code(code)
        if digits is None:
            return None
        issue_id = self._redis.getdel(self._code_key(digits))
        if issue_id is None:
            return None
        issue_id = issue_id.decode() if isinstance(issue_id, bytes) else issue_id
        record = _text_map(self._redis.hgetall(self._keys.build(ISSUE_KIND, issue_id)))
        if not record or record["status"] != "pending":
            return None
        expires_at = datetime.fromisoformat(record["expires_at"])
        if expires_at <= self._clock():
            return None
        return CodeClaim(issue_id, record["visitor_id"], Channel(record["channel"]), expires_at)

    def attempt(self, code: str, subject: Subject, limiter: AttemptLimiter, *,
                details_kind: str | None = None) -> CodeAttempt:
        """``subject`` (a chat user) typed ``code``: all of it in one atomic script.

        Locked out: ``locked``, and the code stays unused. Otherwise the code is
        consumed as ``consume`` would; a live one clears the user's failures
        (``AttemptLimiter.clear``) and is ``claimed``, anything else counts one
        failure (``AttemptLimiter.register_failure``) and is ``wrong``. With
        ``details_kind``, a claim also reads ``member_ref`` from the hash of that
        kind under the issue's id and this registry's key prefix. ``limiter``'s
        keys must be on this registry's Redis.
        """
        keys, args = limiter.failure_call(subject)
        digits = normalize_code(code)
        if digits is not None:
            keys.append(self._code_key(digits))
        details = self._keys.head(details_kind) if details_kind else ""
        args += [self._keys.head(ISSUE_KIND), details, _us_epoch(self._clock())]
        reply = [_text(part) for part in self._attempt(keys=keys, args=args)]
        outcome, unlock = reply[0], int(reply[1])
        if outcome == "locked":
            return CodeAttempt("locked", from_ms_epoch(unlock))
        if outcome == "wrong":
            return CodeAttempt("wrong", from_ms_epoch(unlock) if unlock else None)
        issue_id, visitor_id, channel, expires_at, member_ref = reply[2:7]
        claim = CodeClaim(issue_id, visitor_id, Channel(channel),
                          datetime.fromisoformat(expires_at))
        return CodeAttempt("claimed", claim=claim, member_ref=member_ref or None)

    def mark_bound(self, issue_id: str, info: Mapping[str, Any]) -> bool:
        """Record the binding's outcome (display name, ...) for the widget to show;
        False if the issue is unknown."""
        if not _ID_SHAPE.fullmatch(issue_id):
            return False
        body = json.dumps(dict(info), ensure_ascii=False)
        return bool(self._mark_bound(keys=[self._keys.build(ISSUE_KIND, issue_id)], args=[body]))


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def _text_map(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in raw.items()}


def _us_epoch(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (``moment`` is timezone-aware)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _ms(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() * 1000))
