"""Production web server: gunicorn serving the app factory (``chatcart serve``).

Workers run separately (``chatcart worker``); this process only answers HTTP.
"""

from __future__ import annotations

from flask import Flask
from gunicorn.app.base import BaseApplication

from web.app import create_app
from web.bootstrap import bootstrap
from web.config import ConfigError, load_config
from web.environment import load_environment
from web.logging_setup import setup_logging


def create_wsgi_app(config_path: str | None = None) -> Flask:
    setup_logging()
    env = load_environment()
    if not env.redis_url:
        raise SystemExit("chatcart serve needs REDIS_URL (chatcart run starts a local Redis)")
    return create_app(bootstrap(load_config(config_path), env))


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, config_path: str | None) -> None:
        self._options = options
        self._config_path = config_path
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_wsgi_app(self._config_path)


def serve(config_path: str | None, *, host: str, port: int, workers: int) -> int:
    # Fail fast, before forking: a worker that cannot boot would be restarted forever.
    load_config(config_path)
    if not load_environment().redis_url:
        raise ConfigError("environment: REDIS_URL: chatcart serve needs a shared Redis "
                          "(chatcart run starts a local one)")
    options = {"bind": f"{host}:{port}", "workers": workers, "threads": 4,
               "worker_class": "gthread", "timeout": 30, "accesslog": None}
    _Gunicorn(options, config_path).run()
    return 0
