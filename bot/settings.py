"""Channel accounts from config. Secrets never live here: each account names the
environment variables that hold its secret and token."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

_KEY = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_ENV = r"^[A-Z][A-Z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineAccount(Strict):
    """One LINE Official Account. ``main`` is served at /webhooks/line."""

    key: str = Field(default="main", pattern=_KEY)
    name: str = ""
    basic_id: str = Field(default="@chatcart", pattern=r"^@[0-9a-z._-]{1,40}$")
    secret_env: str = Field(default="LINE_CHANNEL_SECRET", pattern=_ENV)
    token_env: str = Field(default="LINE_CHANNEL_ACCESS_TOKEN", pattern=_ENV)


class MessengerPage(Strict):
    page_id: str = Field(pattern=r"^[0-9]{1,20}$")
    name: str = ""
    token_env: str = Field(default="MESSENGER_PAGE_ACCESS_TOKEN", pattern=_ENV)


class ChannelSettings(Strict):
    line_accounts: tuple[LineAccount, ...] = (LineAccount(),)
    messenger_pages: tuple[MessengerPage, ...] = (MessengerPage(page_id="100000000000001"),)
    quota_warning_percent: int = Field(default=80, ge=1, le=100)
    max_media_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)

    @model_validator(mode="after")
    def _shape(self) -> ChannelSettings:
        keys = [a.key for a in self.line_accounts]
        if len(set(keys)) != len(keys):
            raise ValueError("line_accounts: account keys must be unique")
        if self.line_accounts and "main" not in keys:
            raise ValueError("line_accounts: one account must have key 'main'")
        pages = [p.page_id for p in self.messenger_pages]
        if len(set(pages)) != len(pages):
            raise ValueError("messenger_pages: page ids must be unique")
        if len(pages) > 10:
            raise ValueError("messenger_pages: at most 10 pages (one main and nine more)")
        return self
