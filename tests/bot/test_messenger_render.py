"""Messenger rendering within Send API limits, and the outbox round trip of the
channel-neutral messages themselves."""

from __future__ import annotations

import json

import pytest

from bot.messages import (
    Buttons,
    CameraRollAction,
    CardLine,
    Confirm,
    Image,
    OrderCard,
    PostbackAction,
    Text,
    UrlAction,
    message_from_dict,
)
from bot.messenger_render import MessengerRenderError, render_messenger
from bot.text_limits import utf16_len

EMOJI = "\U0001f375"


def template(message: dict) -> dict:
    return message["attachment"]["payload"]


def card(lines, actions=(), **extra) -> OrderCard:
    extra.setdefault("title", "訂單確認")
    return OrderCard(
        order_number="#A0001",
        lines=lines,
        summary=[("小計", "NT$600")],
        total_text="合計 NT$660",
        delivery_text="7-11 取貨",
        payment_text="銀行轉帳",
        actions=actions,
        **extra,
    )


# --- messages round trip --------------------------------------------------------------


ALL_MESSAGES = [
    Text("您好", quick_replies=(CameraRollAction("上傳"),), alt_text="hi"),
    Image("https://x.test/a.jpg", "https://x.test/a_s.jpg"),
    Buttons("選", [PostbackAction("a", "d", "A"), UrlAction("u", "https://x.test")],
            title="t", image_url="https://x.test/i.jpg"),
    Confirm("ok?", PostbackAction("是", "y"), PostbackAction("否", "n")),
    card([CardLine("茶", None, 1, "NT$1"), CardLine("茶", "大", 2, "NT$2")],
         [PostbackAction("確認", "order.confirm:A0001")], alt_text="訂單"),
]


@pytest.mark.parametrize("message", ALL_MESSAGES, ids=lambda m: type(m).__name__)
def test_messages_round_trip_through_plain_json(message):
    data = json.loads(json.dumps(message.to_dict()))
    assert message_from_dict(data) == message


def test_message_sequences_become_tuples_so_messages_stay_immutable():
    message = Buttons("t", [PostbackAction("a", "b")])
    assert message.actions == (PostbackAction("a", "b"),)
    with pytest.raises(AttributeError):
        message.text = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "data",
    [{"type": "video"}, {"type": "text"}, {"text": "no type"},
     {"type": "buttons", "text": "t", "actions": [{"type": "phone", "label": "x"}]}],
)
def test_message_from_dict_rejects_broken_entries(data):
    with pytest.raises(ValueError):
        message_from_dict(data)


def test_messages_refuse_empty_content():
    with pytest.raises(ValueError):
        Text("  ")
    with pytest.raises(ValueError):
        Buttons("t", [])
    with pytest.raises(ValueError):
        Buttons("t", [PostbackAction("", "x")])
    with pytest.raises(ValueError):
        card([], title=" ")


# --- Messenger rendering ------------------------------------------------------------------


def test_text_is_split_below_2000():
    text = ("訂單" + EMOJI + " ") * 1500
    rendered = render_messenger([Text(text)])
    assert len(rendered) > 1
    assert all(utf16_len(m["text"]) < 2000 for m in rendered)
    assert " ".join(m["text"] for m in rendered) == text


def test_image_is_an_attachment_by_url():
    assert render_messenger([Image("https://x.test/a.jpg")]) == [
        {"attachment": {"type": "image",
                        "payload": {"url": "https://x.test/a.jpg", "is_reusable": True}}}
    ]


def test_buttons_become_button_templates_of_at_most_three():
    actions = [PostbackAction(f"選項{i}號商品規格", f"item:{i}") for i in range(4)]
    actions.append(UrlAction("看看我們的網站首頁", "https://shop.test"))
    rendered = render_messenger([Buttons("請選擇", actions, title="商品")])
    assert [template(m)["template_type"] for m in rendered] == ["button", "button"]
    assert [len(template(m)["buttons"]) for m in rendered] == [3, 2]
    assert template(rendered[0])["text"] == "商品\n請選擇"
    first = template(rendered[0])["buttons"][0]
    assert first == {"type": "postback", "title": "選項0號商品規格", "payload": "item:0"}
    url_button = template(rendered[1])["buttons"][1]
    assert url_button == {"type": "web_url", "url": "https://shop.test",
                          "title": "看看我們的網站首頁", "webview_height_ratio": "tall"}


def test_button_titles_are_cut_to_20_and_long_text_goes_first_in_full():
    long_text = "說明" * 400
    rendered = render_messenger(
        [Buttons(long_text, [PostbackAction("一個非常非常非常非常非常長的按鈕標題文字", "x")])]
    )
    assert rendered[0] == {"text": long_text}
    body = template(rendered[1])
    assert utf16_len(body["text"]) <= 640 and body["text"].endswith("…")
    assert utf16_len(body["buttons"][0]["title"]) <= 20


def test_buttons_image_goes_first_and_camera_roll_is_dropped():
    rendered = render_messenger([
        Buttons("付款", [CameraRollAction("上傳"), PostbackAction("轉帳", "pay:atm")],
                image_url="https://x.test/i.jpg")
    ])
    assert rendered[0]["attachment"]["type"] == "image"
    assert [b["payload"] for b in template(rendered[1])["buttons"]] == ["pay:atm"]
    only_camera = render_messenger([Buttons("請上傳", [CameraRollAction("上傳")])])
    assert only_camera == [{"text": "請上傳"}]


def test_confirm_is_a_button_template_with_two_buttons():
    [rendered] = render_messenger(
        [Confirm("確認訂單？", PostbackAction("是", "yes"), PostbackAction("否", "no"))]
    )
    body = template(rendered)
    assert body["template_type"] == "button"
    assert [b["payload"] for b in body["buttons"]] == ["yes", "no"]
    with pytest.raises(MessengerRenderError):
        render_messenger([Confirm("t", CameraRollAction("c"), PostbackAction("n", "n"))])


def test_payload_over_1000_is_a_programming_error():
    with pytest.raises(MessengerRenderError, match="payload"):
        render_messenger([Buttons("t", [PostbackAction("ok", "x" * 1001)])])
    with pytest.raises(MessengerRenderError):
        render_messenger([Text("t", quick_replies=(PostbackAction("ok", "x" * 1001),))])
    render_messenger([Buttons("t", [PostbackAction("ok", "x" * 1000)])])


def test_quick_replies_only_on_the_last_message_capped_and_payload_only():
    replies = (CameraRollAction("上傳"), UrlAction("網站", "https://x.test")) + tuple(
        PostbackAction(f"非常長的快速回覆選項標題 {i}", f"qr:{i}") for i in range(20)
    )
    rendered = render_messenger(
        [Text("first", quick_replies=replies), Text("second", quick_replies=replies)]
    )
    assert "quick_replies" not in rendered[0]
    quick = rendered[1]["quick_replies"]
    assert len(quick) == 13
    assert all(q["content_type"] == "text" for q in quick)
    assert all(utf16_len(q["title"]) <= 20 for q in quick)
    assert [q["payload"] for q in quick] == [f"qr:{i}" for i in range(13)]


def test_small_order_card_fits_in_one_generic_template():
    [rendered] = render_messenger(
        [card([CardLine("茶", None, 1, "NT$600")], [PostbackAction("確認", "order.confirm")])]
    )
    body = template(rendered)
    assert body["template_type"] == "generic"
    [element] = body["elements"]
    assert element["title"] == "訂單確認 #A0001"
    assert "茶 ×1 NT$600" in element["subtitle"]
    assert utf16_len(element["subtitle"]) <= 80
    assert element["buttons"] == [{"type": "postback", "title": "確認", "payload": "order.confirm"}]


def test_big_order_card_is_followed_by_the_line_items():
    lines = [CardLine(f"高山烏龍茶 {i}", "300g", i + 1, f"NT${i}00") for i in range(30)]
    actions = [PostbackAction(f"動作{i}", f"a:{i}") for i in range(5)] + [CameraRollAction("c")]
    message = card(lines, actions, quick_replies=(PostbackAction("客服", "help"),))
    rendered = render_messenger([message])
    element = template(rendered[0])["elements"][0]
    assert utf16_len(element["title"]) <= 80 and utf16_len(element["subtitle"]) <= 80
    assert [b["payload"] for b in element["buttons"]] == ["a:0", "a:1", "a:2"]
    spill = template(rendered[1])
    assert spill["template_type"] == "button"
    assert [b["payload"] for b in spill["buttons"]] == ["a:3", "a:4"]
    details = "\n".join(m["text"] for m in rendered[2:])
    for i in range(30):
        assert f"高山烏龍茶 {i} 300g ×{i + 1} NT${i}00" in details
    for piece in ("小計 NT$600", "合計 NT$660", "7-11 取貨", "銀行轉帳"):
        assert piece in details
    assert rendered[-1]["quick_replies"] == [
        {"content_type": "text", "title": "客服", "payload": "help"}
    ]
    assert all("quick_replies" not in m for m in rendered[:-1])
