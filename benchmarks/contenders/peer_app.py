"""The peer: the echo bot a merchant's developer writes from the line-bot-sdk v3
README, in our own words.

A ``WebhookHandler`` checks the signature and dispatches; a handler registered for
text messages answers each event with ``MessagingApi.reply_message`` before the
webhook returns, opening an ``ApiClient`` per event as the README does. The reply
goes to the fake platform through ``Configuration(host=...)``.
Served by gunicorn as ``benchmarks.contenders.peer_app:app``.
"""

from __future__ import annotations

import os

from flask import Flask, abort, request
from linebot.v3 import WebhookHandler
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhooks import MessageEvent, TextMessageContent

app = Flask(__name__)
configuration = Configuration(access_token=os.environ["BENCH_LINE_TOKEN"],
                              host=os.environ["BENCH_LINE_API"])
handler = WebhookHandler(os.environ["BENCH_LINE_SECRET"])


@app.route("/webhooks/line", methods=["POST"])
def callback() -> str:
    signature = request.headers.get("X-Line-Signature", "")
    body = request.get_data(as_text=True)
    try:
        handler.handle(body, signature)
    except InvalidSignatureError:
        abort(400)
    return "OK"


@handler.add(MessageEvent, message=TextMessageContent)
def echo_text(event: MessageEvent) -> None:
    with ApiClient(configuration) as api_client:
        MessagingApi(api_client).reply_message_with_http_info(ReplyMessageRequest(
            reply_token=event.reply_token,
            messages=[TextMessage(text=event.message.text)],
        ))
