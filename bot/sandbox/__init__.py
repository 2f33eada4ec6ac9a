"""Local stand-ins for the LINE and Messenger platforms.

``PlatformEmulator`` holds the platforms' state and answers their APIs;
``CustomerActions`` plays the people on the other side by sending signed webhooks.
No web framework here: ``web.sandbox`` serves all of it over HTTP.
"""

from bot.sandbox.clock import SandboxClock
from bot.sandbox.emulator import PlatformEmulator
from bot.sandbox.faults import FaultRule
from bot.sandbox.state import LINE, MESSENGER
from bot.sandbox.webhooks import Customer, CustomerActions, WebhookDelivery
from bot.sandbox.wire import ApiRequest, ApiResponse

__all__ = [
    "LINE",
    "MESSENGER",
    "ApiRequest",
    "ApiResponse",
    "Customer",
    "CustomerActions",
    "FaultRule",
    "PlatformEmulator",
    "SandboxClock",
    "WebhookDelivery",
]
