"""LINE rendering: every output passes the SDK and stays inside LINE's limits."""

from __future__ import annotations

import json

import pytest
from linebot.v3.messaging import PushMessageRequest, ReplyMessageRequest

from bot.line_render import LineRenderError, render_line
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
)
from bot.text_limits import split_text, truncate, utf16_len

EMOJI = "\U0001f375"  # teacup, outside the BMP: two UTF-16 units


def flat(batches):
    return [message for batch in batches for message in batch]


def sdk_accepts(batches):
    for batch in batches:
        ReplyMessageRequest.from_dict({"replyToken": "t", "messages": batch})
        PushMessageRequest.from_dict({"to": "U1", "messages": batch})


def card(lines=None, actions=(), **extra) -> OrderCard:
    return OrderCard(
        title="訂單確認",
        order_number="#A0001",
        lines=lines if lines is not None else [CardLine("烏龍茶", "300g", 2, "NT$600")],
        summary=[("小計", "NT$600"), ("運費", "NT$60")],
        total_text="NT$660",
        delivery_text="7-11 取貨",
        payment_text="銀行轉帳",
        actions=actions,
        **extra,
    )


# --- text_limits ---------------------------------------------------------------


def test_utf16_length_counts_astral_characters_twice():
    assert utf16_len("abc") == 3
    assert utf16_len("訂單") == 2
    assert utf16_len(EMOJI) == 2
    assert utf16_len("a" + EMOJI) == len(("a" + EMOJI).encode("utf-16-le")) // 2


def test_truncate_keeps_fitting_text_and_marks_cuts():
    assert truncate("short", 20) == "short"
    assert truncate("abcdefghij", 5) == "abcd…"
    assert truncate("abc " + "d" * 10, 5) == "abc…"
    cut = truncate(EMOJI * 10, 6)
    assert cut == EMOJI * 2 + "…"
    assert utf16_len(cut) <= 6
    with pytest.raises(ValueError):
        truncate("abc", 0)


def test_split_prefers_line_breaks_then_spaces():
    assert split_text("first line here\nsecond", 20) == ["first line here", "second"]
    assert split_text("a b\ncc dd ee", 8) == ["a b\ncc", "dd ee"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("好。" * 6, 5) == ["好。好。", "好。好。", "好。好。"]
    assert split_text("x" * 12, 5) == ["xxxxx", "xxxxx", "xx"]
    assert split_text("", 10) == []


def test_split_never_breaks_a_surrogate_pair():
    text = ("a" + EMOJI * 3) * 50
    pieces = split_text(text, 7)
    assert "".join(pieces) == text
    for piece in pieces:
        assert utf16_len(piece) <= 7
        piece.encode("utf-16-le")  # a lone surrogate would make this raise
    with pytest.raises(ValueError):
        split_text(text, 1)


# --- text and batching ------------------------------------------------------------


def test_short_text_is_one_text_message():
    assert render_line([Text("您好")]) == [[{"type": "text", "text": "您好"}]]


def test_long_text_is_split_within_5000_utf16_units():
    paragraph = ("訂單明細" + EMOJI) * 300 + "\n"
    text = paragraph * 8
    messages = flat(render_line([Text(text)]))
    assert len(messages) > 1
    for message in messages:
        assert message["type"] == "text"
        assert 0 < utf16_len(message["text"]) <= 5000
    assert "\n".join(m["text"] for m in messages) == text


def test_batches_hold_at_most_five_messages_in_order():
    batches = render_line([Text(f"m{i}") for i in range(12)])
    assert [len(b) for b in batches] == [5, 5, 2]
    assert [m["text"] for m in flat(batches)] == [f"m{i}" for i in range(12)]
    assert render_line([]) == []


def test_quick_replies_only_on_the_last_message_of_a_batch():
    slip = CameraRollAction("上傳轉帳截圖")
    batches = render_line(
        [Text("a", quick_replies=(slip,))]
        + [Text(f"t{i}") for i in range(4)]
        + [Text("last", quick_replies=(slip,))]
    )
    first, second = batches
    assert "quickReply" not in first[0]
    assert "quickReply" not in first[-1]
    assert second[-1]["quickReply"]["items"] == [
        {"type": "action", "action": {"type": "cameraRoll", "label": "上傳轉帳截圖"}}
    ]


def test_quick_replies_are_capped_at_13_with_short_labels():
    many = tuple(PostbackAction(f"選項{i}" * 8, f"pick:{i}") for i in range(20))
    [[message]] = render_line([Text("choose", quick_replies=many)])
    items = message["quickReply"]["items"]
    assert len(items) == 13
    assert all(utf16_len(item["action"]["label"]) <= 20 for item in items)
    assert items[0]["action"]["data"] == "pick:0"
    assert items[0]["action"]["label"].endswith("…")


def test_image_message_uses_preview_or_the_image_itself():
    [[a, b]] = render_line(
        [Image("https://x.test/a.jpg", "https://x.test/a_s.jpg"), Image("https://x.test/b.jpg")]
    )
    assert a == {"type": "image", "originalContentUrl": "https://x.test/a.jpg",
                 "previewImageUrl": "https://x.test/a_s.jpg"}
    assert b["previewImageUrl"] == "https://x.test/b.jpg"
    with pytest.raises(LineRenderError):
        render_line([Image("https://x.test/" + "a" * 2000)])


# --- templates -----------------------------------------------------------------------


def test_buttons_template_within_limits():
    message = Buttons(
        "請選擇付款方式",
        [PostbackAction("銀行轉帳付款（ATM、網路銀行或臨櫃匯款）", "pay:atm", "我要轉帳"),
         UrlAction("看訂單", "https://shop.test/o/abc")],
        title="付款" * 30,
    )
    [[rendered]] = render_line([message])
    template = rendered["template"]
    assert template["type"] == "buttons"
    assert utf16_len(template["title"]) <= 40 and template["title"].endswith("…")
    assert template["text"] == "請選擇付款方式"
    assert template["actions"] == [
        {"type": "postback", "label": "銀行轉帳付款（ATM、網路銀行或臨櫃匯款）"[:19] + "…",
         "data": "pay:atm", "displayText": "我要轉帳"},
        {"type": "uri", "label": "看訂單", "uri": "https://shop.test/o/abc"},
    ]
    assert rendered["altText"].startswith("付款")


def test_buttons_text_limit_is_60_with_a_header_and_160_without():
    text = "字" * 100
    with_title = flat(render_line([Buttons(text, [PostbackAction("ok", "ok")], title="T")]))
    assert with_title[0] == {"type": "text", "text": text}
    assert utf16_len(with_title[1]["template"]["text"]) <= 60
    with_image = flat(render_line(
        [Buttons(text, [PostbackAction("ok", "ok")], image_url="https://x.test/i.jpg")]
    ))
    assert with_image[1]["template"]["thumbnailImageUrl"] == "https://x.test/i.jpg"
    assert utf16_len(with_image[1]["template"]["text"]) <= 60
    plain = flat(render_line([Buttons(text, [PostbackAction("ok", "ok")])]))
    assert len(plain) == 1 and plain[0]["template"]["text"] == text


def test_more_than_four_actions_spill_into_another_template():
    actions = [PostbackAction(f"品項{i}", f"item:{i}") for i in range(6)]
    messages = flat(render_line([Buttons("選一個", actions, title="商品")]))
    assert [len(m["template"]["actions"]) for m in messages] == [4, 2]
    assert [a["data"] for m in messages for a in m["template"]["actions"]] == [
        f"item:{i}" for i in range(6)
    ]
    assert "title" in messages[0]["template"] and "title" not in messages[1]["template"]


def test_camera_roll_is_dropped_from_templates():
    messages = flat(render_line(
        [Buttons("付款", [CameraRollAction("上傳"), PostbackAction("轉帳", "pay:atm")])]
    ))
    assert [a["type"] for a in messages[0]["template"]["actions"]] == ["postback"]
    only_camera = flat(render_line([Buttons("請上傳", [CameraRollAction("上傳")], title="付款")]))
    assert only_camera == [{"type": "text", "text": "付款\n請上傳"}]


def test_postback_data_over_300_is_a_programming_error():
    too_long = PostbackAction("ok", "x" * 301)
    with pytest.raises(LineRenderError, match="postback data"):
        render_line([Buttons("t", [too_long])])
    with pytest.raises(LineRenderError):
        render_line([Text("t", quick_replies=(too_long,))])
    render_line([Buttons("t", [PostbackAction("ok", "x" * 300)])])


def test_uri_over_1000_is_a_programming_error():
    with pytest.raises(LineRenderError, match="uri"):
        render_line([Buttons("t", [UrlAction("go", "https://x.test/" + "a" * 1000)])])


def test_display_text_is_truncated_to_300():
    [[message]] = render_line([Buttons("t", [PostbackAction("ok", "ok", "說" * 400)])])
    assert utf16_len(message["template"]["actions"][0]["displayText"]) <= 300


def test_confirm_has_exactly_two_actions_and_short_text():
    long_text = "確認嗎？" * 100
    messages = flat(render_line(
        [Confirm(long_text, PostbackAction("是", "yes"), PostbackAction("否", "no"))]
    ))
    assert messages[0] == {"type": "text", "text": long_text}
    template = messages[1]["template"]
    assert template["type"] == "confirm"
    assert utf16_len(template["text"]) <= 240
    assert [a["data"] for a in template["actions"]] == ["yes", "no"]
    assert utf16_len(messages[1]["altText"]) <= 1500
    with pytest.raises(LineRenderError):
        render_line([Confirm("t", CameraRollAction("c"), PostbackAction("no", "no"))])


def test_alt_text_is_the_given_one_capped_at_1500():
    [[message]] = render_line([Buttons("t", [PostbackAction("ok", "ok")], alt_text="a" * 2000)])
    assert message["altText"] == "a" * 1499 + "…"


# --- order card --------------------------------------------------------------------


def test_order_card_is_a_flex_bubble_with_buttons():
    message = card(
        actions=[
            PostbackAction("確認訂單並前往付款頁面" * 4, "order.confirm:A0001", "確認訂單"),
            UrlAction("查看訂單", "https://shop.test/o/tok"),
            CameraRollAction("上傳"),
        ],
        quick_replies=(CameraRollAction("上傳轉帳截圖"),),
    )
    [[rendered]] = render_line([message])
    assert rendered["type"] == "flex"
    assert rendered["altText"] == "訂單確認 #A0001 NT$660"
    bubble = rendered["contents"]
    assert bubble["type"] == "bubble"
    dumped = json.dumps(bubble, ensure_ascii=False)
    for piece in ("烏龍茶", "300g", "×2", "NT$600", "小計", "運費", "NT$660", "7-11 取貨",
                  "銀行轉帳", "#A0001"):
        assert piece in dumped
    buttons = [c["action"] for c in bubble["footer"]["contents"]]
    assert [b["type"] for b in buttons] == ["postback", "uri"]
    assert utf16_len(buttons[0]["label"]) <= 40 and buttons[0]["label"].endswith("…")
    assert buttons[0]["data"] == "order.confirm:A0001"
    assert rendered["quickReply"]["items"][0]["action"]["type"] == "cameraRoll"


def test_order_card_without_variant_or_actions_has_no_empty_nodes():
    [[rendered]] = render_line([card(lines=[CardLine("綠茶", None, 1, "NT$250")])])
    assert "footer" not in rendered["contents"]
    assert '"text": ""' not in json.dumps(rendered, ensure_ascii=False)


def test_huge_order_card_stays_under_30kb_and_says_how_many_are_hidden():
    lines = [
        CardLine(f"超長商品名稱 {i} " * 5, f"規格 {i}", i + 1, f"NT${i}00") for i in range(400)
    ]
    [[rendered]] = render_line([card(lines=lines, alt_text="x" * 3000)])
    bubble = rendered["contents"]
    assert len(json.dumps(bubble, ensure_ascii=False).encode()) <= 30_000
    texts = [node.get("text", "") for node in _walk(bubble)]
    hidden = [t for t in texts if t.startswith("… +")]
    assert len(hidden) == 1
    shown = sum(1 for t in texts if t.startswith("超長商品名稱"))
    assert shown + int(hidden[0][3:]) == 400
    assert utf16_len(rendered["altText"]) <= 1500


def _walk(node):
    yield node
    for child in node.get("contents", []) if isinstance(node.get("contents"), list) else []:
        yield from _walk(child)
    for key in ("body", "footer"):
        if isinstance(node.get(key), dict):
            yield from _walk(node[key])


def test_every_rendering_is_accepted_by_the_sdk():
    everything = [
        Text("hello " * 2000),
        Image("https://x.test/a.jpg"),
        Buttons("選", [PostbackAction(f"a{i}", f"d{i}") for i in range(9)], title="t",
                image_url="https://x.test/t.jpg"),
        Confirm("ok?", PostbackAction("是", "y", "是"), UrlAction("看", "https://x.test")),
        card(actions=[PostbackAction("確認", "order.confirm:A0001")]),
        Text("end", quick_replies=(CameraRollAction("上傳"), UrlAction("網站", "https://x.test"))),
    ]
    batches = render_line(everything)
    assert all(1 <= len(b) <= 5 for b in batches)
    sdk_accepts(batches)
