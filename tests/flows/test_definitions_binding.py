"""The binding flow's decisions, without Redis: what is said and what is written
for each outcome of a code attempt."""

from __future__ import annotations

from datetime import timedelta

from flows.settings import TextOverrides
from tests.flows.test_definitions_support import KEY, T0, make_harness, texts_of

SUCCESS = "綁定成功！之後購物車與訂單通知會傳到這裡。"
CONFIRM_ON_WEB = "若要連結會員資料，請回到購物網頁確認是你本人；確認前只會傳送購物車通知。"
WRONG = "這個代碼不正確或已過期，請回到購物網頁重新取得代碼。"


def claim(member_ref=None):
    return {"outcome": "claimed", "conversation_id": 7, "display_name": "Amy",
            "claim": {"issue_id": "issue1", "visitor_id": "v1", "member_ref": member_ref}}


def test_a_claimed_code_binds_marks_the_code_and_says_the_merchants_text(app_config):
    h = make_harness(app_config, overrides={"zh_TW": TextOverrides(binding_success="綁好了！")})
    result = h.start("binding", "submit", claim())
    assert result.state == "bound" and result.ended
    assert texts_of(result) == ["綁好了！"]
    assert [(c.name, c.args["visitor_id"], c.args["member_ref"]) for c in result.commands] == [
        ("binding.bind", "v1", None)]
    assert h.services.bindings.is_bound("v1", 7)
    assert h.services.codes.bound == {"issue1": {"display_name": "Amy", "binding_id": 1,
                                                 "member": False}}
    assert h.store.load(KEY) is None


def test_a_member_code_asks_to_confirm_on_the_page(app_config):
    h = make_harness(app_config)
    result = h.start("binding", "submit", claim("#3"))
    assert texts_of(result) == [SUCCESS, CONFIRM_ON_WEB]
    assert h.services.codes.bound["issue1"]["member"] is True
    assert h.services.bindings.rows[("v1", 7)].member_ref == "#3"


def test_an_already_bound_pair_gets_a_friendly_word_and_no_second_row(app_config):
    h = make_harness(app_config)
    h.start("binding", "submit", claim())
    result = h.start("binding", "submit", {**claim(), "claim": {**claim()["claim"],
                                                                "issue_id": "issue2"}})
    assert result.state == "already_bound"
    assert texts_of(result) == ["你已經綁定過了，不需要再綁定一次。"]
    assert len(h.services.bindings.rows) == 1
    assert set(h.services.codes.bound) == {"issue1", "issue2"}  # the widget sees "bound"


def test_a_wrong_code_says_so_and_writes_nothing(app_config):
    h = make_harness(app_config)
    result = h.start("binding", "submit", {"outcome": "wrong", "locked_until": None,
                                           "conversation_id": 7})
    assert (result.state, texts_of(result), result.commands) == ("wrong", [WRONG], ())


def test_the_fifth_wrong_code_also_says_how_long_the_lockout_lasts(app_config):
    h = make_harness(app_config)
    until = (T0 + timedelta(minutes=15)).isoformat()
    result = h.start("binding", "submit", {"outcome": "wrong", "locked_until": until,
                                           "conversation_id": 7})
    assert result.state == "locked"
    assert texts_of(result) == [WRONG, "代碼錯誤次數過多，請於 15 分鐘後再試。"]


def test_a_locked_out_user_is_told_when_to_come_back_in_english_too(app_config):
    h = make_harness(app_config, locale="en")
    until = (T0 + timedelta(minutes=4, seconds=10)).isoformat()
    result = h.start("binding", "submit", {"outcome": "locked", "locked_until": until,
                                           "conversation_id": 7})
    assert texts_of(result) == ["Too many wrong codes. Please try again in 5 minutes."]
    assert result.commands == ()
