"""The ``chatcart`` command line (names fixed by docs/interfaces)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

from commerce.errors import DomainError
from web.config import ConfigError, load_config
from web.environment import load_environment


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def cmd_config_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    env = load_environment()
    line = "sandbox" if env.line_sandbox else env.line_api_base
    messenger = "sandbox" if env.messenger_sandbox else env.graph_api_base
    print(f"config OK: {config.store.name}; {len(config.delivery_methods)} delivery and "
          f"{len(config.payment_methods)} payment methods; LINE: {line}; Messenger: {messenger}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from commerce.db.migrations import upgrade

    env = load_environment()
    upgrade(env.database_url)
    print(f"database at head: {env.database_url}")
    return 0


def _with_container(args: argparse.Namespace, action: Callable) -> int:
    """Run ``action(container)`` with a container; Redis is optional for these commands."""
    from web.bootstrap import bootstrap

    config = load_config(args.config)
    env = load_environment()
    container = bootstrap(config, env)
    try:
        return action(container)
    finally:
        container.close()


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from commerce.demo import seed_demo

    def action(c) -> int:  # noqa: ANN001
        result = seed_demo(c.catalog, c.customers)
        print(f"demo store ready: {result['products']} products, "
              f"{result['customers_created']} new customers")
        return 0

    return _with_container(args, action)


def cmd_catalog_list(args: argparse.Namespace) -> int:
    def action(c) -> int:  # noqa: ANN001
        rows = c.catalog.list_rows()
        if args.json:
            _print_json([r.to_dict() for r in rows])
            return 0
        for r in rows:
            flags = " (hidden)" if r.hidden else " (gift)" if r.is_gift else ""
            print(f"{r.sku:<18} {r.product} {r.variant}".rstrip() +
                  f"  NT${r.price}  stock {r.stock}{flags}")
        return 0

    return _with_container(args, action)


def cmd_order_show(args: argparse.Namespace) -> int:
    def action(c) -> int:  # noqa: ANN001
        order = c.orders.get(args.number)
        if args.json:
            _print_json(order.to_dict())
            return 0
        print(f"Order {order.number}  {order.status_label} ({order.status.value})")
        print(f"Customer: {order.customer_name} (#{order.customer_id})")
        for item in order.items:
            print(f"  {item.name} {item.variant_label} x{item.quantity}  NT${item.line_total}")
        print(f"Subtotal NT${order.subtotal}  discounts -NT${order.discount_total}  "
              f"shipping NT${order.shipping_fee}  credit -NT${order.credit_used}  "
              f"total NT${order.total}")
        print(f"Delivery {order.delivery_method}, payment {order.payment_method}")
        for event in order.events:
            print(f"  {event.at:%Y-%m-%d %H:%M}Z {event.from_status} -> {event.to_status} "
                  f"by {event.actor} {event.note}".rstrip())
        return 0

    return _with_container(args, action)


def cmd_admin_invite(args: argparse.Namespace) -> int:
    def action(c) -> int:  # noqa: ANN001
        code = c.admins.invite()
        print("One-time admin code (valid 24 hours). In the shop's chat, send: /admin <code>")
        print(code)
        return 0

    return _with_container(args, action)


def cmd_admin_token(args: argparse.Namespace) -> int:
    def action(c) -> int:  # noqa: ANN001
        token = c.admins.create_token(args.name)
        print("Merchant API token (shown once; send it as Authorization: Bearer <token>):")
        print(token)
        return 0

    return _with_container(args, action)


def cmd_admin_create(args: argparse.Namespace) -> int:
    print("console logins arrive with the merchant console; until then use "
          "`chatcart admin invite` and /admin <code> in the chat", file=sys.stderr)
    return 1


def cmd_run(args: argparse.Namespace) -> int:
    from web.runner import run_all_in_one

    return run_all_in_one(args.config, host=args.host, port=args.port)


def cmd_worker(args: argparse.Namespace) -> int:
    from web.worker_main import run_workers

    return run_workers(args.config, threads=args.threads, claim_idle_ms=args.claim_idle_ms,
                       lease_seconds=args.lease_seconds)


def cmd_serve(args: argparse.Namespace) -> int:
    from web.wsgi import serve

    return serve(args.config, host=args.host, port=args.port, workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatcart", description=__doc__)
    parser.add_argument("--config", help="config file (default: $CHATCART_CONFIG or config.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    default_port = int(os.environ.get("PORT", "8000"))
    run = sub.add_parser("run", help="web + workers (+ sandbox) in one process")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=default_port)
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="web only, production WSGI server (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=default_port)
    serve.add_argument("--workers", type=int, default=2)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="background workers only (needs REDIS_URL)")
    worker.add_argument("--threads", type=int, default=32,
                        help="conversations handled at once; a thread waits out each "
                             "platform call, so more threads hide the platforms' latency")
    worker.add_argument("--claim-idle-ms", type=int, default=30_000,
                        help="reclaim events a dead worker held after this idle time")
    worker.add_argument("--lease-seconds", type=float, default=30.0,
                        help="a dead worker's conversation lock frees itself after this")
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed-demo", help="load the demo store (idempotent)").set_defaults(
        func=cmd_seed_demo)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("check", help="validate config and environment").set_defaults(
        func=cmd_config_check)

    catalog = sub.add_parser("catalog", help="catalogue tools")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    listing = catalog_sub.add_parser("list", help="sku, name, variant, price, stock")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_catalog_list)

    admin = sub.add_parser("admin", help="merchant admins and API tokens")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    admin_sub.add_parser("invite", help="print a one-time admin code (last line)").set_defaults(
        func=cmd_admin_invite)
    token = admin_sub.add_parser("token", help="print a new merchant API token (last line)")
    token.add_argument("--name", default="", help="a label to recognise the token by")
    token.set_defaults(func=cmd_admin_token)
    admin_sub.add_parser("create", help="create a console login").set_defaults(
        func=cmd_admin_create)

    order = sub.add_parser("order", help="order tools")
    order_sub = order.add_subparsers(dest="order_command", required=True)
    show = order_sub.add_parser("show", help="one order with its history")
    show.add_argument("number")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_order_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
