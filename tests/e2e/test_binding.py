"""Binding codes end to end: the widget's API over HTTP, the code typed (or arriving
by an m.me ref) in a chat through signed webhooks, the workers, a real Redis and
SQL, on both channels."""

from __future__ import annotations

import threading

import pytest
import requests

from commerce.records import Binding
from tests.support.chat_story import conversation, texts
from tests.support.live_shop import wait_until

pytestmark = pytest.mark.slow

SUCCESS = "綁定成功！之後購物車與訂單通知會傳到這裡。"
WRONG = "這個代碼不正確或已過期，請回到購物網頁重新取得代碼。"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")



def new_code(shop, visitor="visitor-1", channel="line") -> dict:
    answer = requests.post(f"{shop.url}/api/binding-codes",
                           json={"visitor_id": visitor, "channel": channel}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()


def status(shop, issue_id: str) -> dict:
    return requests.get(f"{shop.url}/api/binding-codes/{issue_id}", timeout=10).json()


def bindings(shop) -> list[tuple[str, int]]:
    with shop.container.uow() as session:
        return [(b.visitor_id, b.conversation_id) for b in session.query(Binding)]


@pytest.mark.parametrize("channel", ["line", "messenger"])
def test_a_typed_code_binds_once_and_the_widget_shows_the_chat_name(live_shop, channel):
    issued = new_code(live_shop, channel=channel)
    assert status(live_shop, issued["id"])["status"] == "pending"
    amy = live_shop.customer("Amy", channel)
    typed = f"{issued['code'][:3]} {issued['code'][3:]}".translate(FULL_WIDTH)
    amy.says(typed)
    wait_until(lambda: SUCCESS in texts(amy), message="the binding success message")
    conv = conversation(live_shop, amy)
    assert bindings(live_shop) == [("visitor-1", conv.id)]
    assert conv.customer_id is None  # cart messaging only: no member account
    assert status(live_shop, issued["id"]) == {"status": "bound", "display_name": "Amy",
                                               "needs_confirmation": False}

    amy.says(issued["code"])  # single use
    wait_until(lambda: texts(amy)[-1:] == [WRONG], message="the wrong-code reply")
    again = new_code(live_shop, channel=channel)
    amy.says(again["code"])
    wait_until(lambda: texts(amy)[-1:] == ["你已經綁定過了，不需要再綁定一次。"],
               message="the already-bound reply")
    assert bindings(live_shop) == [("visitor-1", conv.id)]
    assert status(live_shop, again["id"])["status"] == "bound"


def test_an_m_me_link_with_a_bind_ref_binds_on_messenger(live_shop):
    issued = new_code(live_shop, channel="messenger")
    page = live_shop.page_id
    assert issued["deep_link"] == f"https://m.me/{page}?ref=bind-{issued['code']}"
    bob = live_shop.customer("Bob", "messenger")
    bob.opens_link(f"bind-{issued['code']}")
    wait_until(lambda: SUCCESS in texts(bob), message="the binding success message")
    assert bindings(live_shop) == [("visitor-1", conversation(live_shop, bob).id)]


def test_twenty_concurrent_sends_of_one_code_make_exactly_one_binding(live_shop):
    issued = new_code(live_shop)
    people = [live_shop.customer(f"客人{n}", "line" if n % 2 else "messenger")
              for n in range(20)]
    start = threading.Barrier(len(people))

    def send(person) -> None:
        start.wait(timeout=10)
        person.says(issued["code"])

    threads = [threading.Thread(target=send, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    wait_until(lambda: sum(len(texts(p)) for p in people) == 20, timeout=30,
               message="an answer for every sender")
    answers = [texts(p)[0] for p in people]
    assert answers.count(SUCCESS) == 1 and answers.count(WRONG) == 19
    winner = people[answers.index(SUCCESS)]
    assert bindings(live_shop) == [("visitor-1", conversation(live_shop, winner).id)]
    assert status(live_shop, issued["id"])["display_name"] == winner.user.display_name


def test_an_expired_code_gets_a_clear_reply_and_binds_nothing(live_shop):
    issued = new_code(live_shop)
    live_shop.emulator.clock.advance(11 * 60)
    assert status(live_shop, issued["id"])["status"] == "expired"
    amy = live_shop.customer("Amy")
    amy.says(issued["code"])
    wait_until(lambda: texts(amy) == [WRONG], message="the wrong-code reply")
    assert bindings(live_shop) == []


def test_five_wrong_codes_lock_the_chat_user_out_for_fifteen_minutes(live_shop):
    issued = new_code(live_shop)
    wrong = f"{(int(issued['code']) + 1) % 1_000_000:06d}"
    amy = live_shop.customer("Amy", "messenger")
    for n in range(5):
        amy.says(wrong)
        wait_until(lambda n=n: len(texts(amy)) >= n + 1, message=f"reply {n + 1}")
    wait_until(lambda: "代碼錯誤次數過多，請於 15 分鐘後再試。" in texts(amy),
               message="the lockout message")
    amy.says(issued["code"])  # the right code, but locked out
    wait_until(lambda: texts(amy)[-1].startswith("代碼錯誤次數過多"), message="still locked")
    assert bindings(live_shop) == [] and status(live_shop, issued["id"])["status"] == "pending"
    live_shop.emulator.clock.advance(16 * 60)
    fresh = new_code(live_shop)
    amy.says(fresh["code"])
    wait_until(lambda: texts(amy)[-1] == SUCCESS, message="binding after the lockout")
