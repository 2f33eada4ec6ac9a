"""Secrets and endpoints from the environment (names fixed by docs/interfaces).

A platform runs against the built-in sandbox only when neither its credentials nor
its base URLs are set; otherwise the service talks to exactly the URLs given.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from web.config import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///var/chatcart.sqlite3"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
LINE_API = "https://api.line.me"
LINE_DATA_API = "https://api-data.line.me"
GRAPH_API = "https://graph.facebook.com/v25.0"


@dataclass(frozen=True)
class Environment:
    secret_key: str
    database_url: str
    redis_url: str | None
    public_base_url: str
    line_channel_secret: str | None
    line_access_token: str | None
    line_api_base: str
    line_data_api_base: str
    line_basic_id: str | None
    messenger_app_secret: str | None
    messenger_page_token: str | None
    messenger_verify_token: str | None
    messenger_page_id: str | None
    graph_api_base: str
    line_sandbox: bool
    messenger_sandbox: bool
    raw: Mapping[str, str]
    trusted_proxies: int = 0

    def get(self, name: str) -> str | None:
        """Any other variable, e.g. the secret of a second LINE account."""
        value = self.raw.get(name)
        return value or None


def _secret_key(env: Mapping[str, str], var_dir: Path) -> str:
    if env.get("CHATCART_SECRET_KEY"):
        return env["CHATCART_SECRET_KEY"]
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_environment(
    env: Mapping[str, str] | None = None, *, var_dir: Path = Path("var")
) -> Environment:
    env = dict(os.environ if env is None else env)

    def get(name: str) -> str | None:
        return env.get(name) or None

    line_set = any(get(n) for n in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN",
                                    "LINE_API_BASE", "LINE_DATA_API_BASE"))
    messenger_set = any(get(n) for n in ("MESSENGER_APP_SECRET", "MESSENGER_PAGE_ACCESS_TOKEN",
                                         "GRAPH_API_BASE"))
    if line_set and not (get("LINE_CHANNEL_SECRET") and get("LINE_CHANNEL_ACCESS_TOKEN")):
        raise ConfigError("environment: LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN "
                          "must both be set (or neither, for the sandbox)")
    if messenger_set and not (get("MESSENGER_APP_SECRET") and get("MESSENGER_PAGE_ACCESS_TOKEN")):
        raise ConfigError("environment: MESSENGER_APP_SECRET and MESSENGER_PAGE_ACCESS_TOKEN "
                          "must both be set (or neither, for the sandbox)")
    proxies = get("CHATCART_TRUSTED_PROXIES") or "0"
    if not proxies.isdigit() or int(proxies) > 5:
        raise ConfigError("environment: CHATCART_TRUSTED_PROXIES: a number of proxies, 0-5")
    public = (get("PUBLIC_BASE_URL") or DEFAULT_PUBLIC_BASE_URL).rstrip("/")
    if not public.startswith(("http://", "https://")):
        raise ConfigError(f"environment: PUBLIC_BASE_URL: must start with http(s):// ({public})")
    return Environment(
        secret_key=_secret_key(env, var_dir),
        database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=get("REDIS_URL"),
        public_base_url=public,
        line_channel_secret=get("LINE_CHANNEL_SECRET"),
        line_access_token=get("LINE_CHANNEL_ACCESS_TOKEN"),
        line_api_base=(get("LINE_API_BASE") or LINE_API).rstrip("/"),
        line_data_api_base=(get("LINE_DATA_API_BASE") or LINE_DATA_API).rstrip("/"),
        line_basic_id=get("LINE_BASIC_ID"),
        messenger_app_secret=get("MESSENGER_APP_SECRET"),
        messenger_page_token=get("MESSENGER_PAGE_ACCESS_TOKEN"),
        messenger_verify_token=get("MESSENGER_VERIFY_TOKEN"),
        messenger_page_id=get("MESSENGER_PAGE_ID"),
        graph_api_base=(get("GRAPH_API_BASE") or GRAPH_API).rstrip("/"),
        line_sandbox=not line_set,
        messenger_sandbox=not messenger_set,
        raw=env,
        trusted_proxies=int(proxies),
    )
