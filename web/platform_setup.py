"""Builds the connected accounts' clients from config and environment.

Real credentials and base URLs come from the environment. In the sandbox, each
account gets credentials derived from the service's secret key and points at the
emulator, which is told the same credentials by ``connect_emulator``.
"""

from __future__ import annotations

import hashlib
import hmac

from bot.line_client import LineClient
from bot.messenger_client import MessengerClient
from bot.platforms import LineChannel, MessengerPageLink, Platforms
from web.config import AppConfig, ConfigError
from web.environment import Environment

SANDBOX_VERIFY_TOKEN = "sandbox-verify-token"


def sandbox_secret(secret_key: str, purpose: str) -> str:
    return hmac.new(secret_key.encode(), f"sandbox:{purpose}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def build_platforms(config: AppConfig, env: Environment, sandbox_base: str | None) -> Platforms:
    base = (sandbox_base or f"{env.public_base_url}/sandbox").rstrip("/")
    platforms = Platforms(line_sandbox=env.line_sandbox, messenger_sandbox=env.messenger_sandbox)
    for account in config.channels.line_accounts:
        if env.line_sandbox:
            secret = sandbox_secret(env.secret_key, f"line-secret:{account.key}")
            token = sandbox_secret(env.secret_key, f"line-token:{account.key}")
            api, data_api = f"{base}/line", f"{base}/line"
        else:
            secret, token = env.get(account.secret_env), env.get(account.token_env)
            if not secret or not token:
                raise ConfigError(f"environment: {account.secret_env} / {account.token_env}: "
                                  f"needed for LINE account {account.key!r}")
            api, data_api = env.line_api_base, env.line_data_api_base
        basic_id = (env.line_basic_id if account.key == "main" and env.line_basic_id
                    else account.basic_id)
        platforms.line[account.key] = LineChannel(
            account.key, secret, basic_id, LineClient(token, api_base=api, data_api_base=data_api))
    if env.messenger_sandbox:
        app_secret = sandbox_secret(env.secret_key, "messenger-app-secret")
        platforms.messenger_verify_token = SANDBOX_VERIFY_TOKEN
        graph = f"{base}/graph/v25.0"
    else:
        app_secret = env.messenger_app_secret
        platforms.messenger_verify_token = env.messenger_verify_token
        graph = env.graph_api_base
    platforms.messenger_app_secret = app_secret
    for index, page in enumerate(config.channels.messenger_pages):
        page_id = env.messenger_page_id if index == 0 and env.messenger_page_id else page.page_id
        if env.messenger_sandbox:
            token = sandbox_secret(env.secret_key, f"page-token:{page_id}")
        else:
            token = env.get(page.token_env)
            if not token:
                raise ConfigError(f"environment: {page.token_env}: needed for page {page_id}")
        platforms.messenger[page_id] = MessengerPageLink(
            page_id, MessengerClient(token, app_secret=app_secret, graph_base=graph))
    return platforms


def connect_emulator(emulator, container, service_base: str) -> None:  # noqa: ANN001
    """Tell the emulator our sandbox credentials and where our webhooks are."""
    platforms: Platforms = container.platforms
    env = container.env
    for key, channel in platforms.line.items():
        path = "/webhooks/line" if key == "main" else f"/webhooks/line/{key}"
        emulator.add_line_channel(
            key, channel_secret=channel.secret,
            access_token=sandbox_secret(env.secret_key, f"line-token:{key}"),
            basic_id=channel.basic_id, webhook_url=f"{service_base}{path}")
    for page_id in platforms.messenger:
        emulator.add_messenger_page(
            page_id, page_token=sandbox_secret(env.secret_key, f"page-token:{page_id}"),
            app_secret=platforms.messenger_app_secret,
            webhook_url=f"{service_base}/webhooks/messenger")
