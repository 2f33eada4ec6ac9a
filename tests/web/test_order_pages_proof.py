"""Transfer proofs on the order page: what is accepted, what is refused and why,
and what the order, the media store and the chat look like afterwards."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from PIL import Image
from sqlalchemy import select

from commerce.demo import seed_demo
from commerce.identity import ConversationKey
from commerce.order_status import OrderStatus
from commerce.records import MediaFile, PaymentProof
from tests.web.test_order_pages import FakeNotifier, csrf_of, make_order
from web.app import create_app
from web.order_pages import csrf

S = OrderStatus


def photo(kind: str = "JPEG", size: tuple[int, int] = (64, 48), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "PhoneMaker"  # Make
        tags[0x8825] = {2: (25.0, 2.0, 0.0)}  # GPS latitude
        image.save(out, kind, exif=tags)
    else:
        image.save(out, kind)
    return out.getvalue()


@pytest.fixture
def notifier(container):
    from types import SimpleNamespace

    fake = FakeNotifier()
    container._chat = SimpleNamespace(notifier=fake)
    return fake


@pytest.fixture
def client(container, notifier):
    seed_demo(container.catalog, container.customers)
    return create_app(container).test_client()


@pytest.fixture
def awaiting(container):
    """A confirmed bank-transfer order of a chat customer, and its link."""
    conv = container.conversations.ensure(ConversationKey("line", "main", "U-amy"), "Amy")
    order = make_order(container, ("TEA-OOLONG", 2), conversation_id=conv.id)
    container.orders.confirm(order.number, actor="customer")
    return order, container.order_links.issue(order.id)


def upload(client, token, data: bytes, filename="slip.jpg", **fields):
    form = {"csrf_token": csrf.issue(client.application.secret_key, token), **fields}
    form["proof"] = (io.BytesIO(data), filename)
    return client.post(f"/o/{token}/pay", data=form, content_type="multipart/form-data")


def proofs(container, order):
    with container.uow() as session:
        rows = session.scalars(select(PaymentProof).where(PaymentProof.order_id == order.id)
                               .order_by(PaymentProof.id)).all()
        return [(p.media_id, p.account_last5, p.transferred_at, p.source) for p in rows]


def media_count(container) -> int:
    with container.uow() as session:
        return len(session.scalars(select(MediaFile)).all())


def test_pay_page_shows_what_to_transfer(client, awaiting):
    order, token = awaiting
    html = client.get(f"/o/{token}/pay").get_data(as_text=True)
    assert "013" in html and "123456789012" in html and 'id="transfer-amount">$1,220<' in html
    assert 'id="deadline">' in html and "確認訂單後" not in html
    assert 'enctype="multipart/form-data"' in html and 'name="account_last5"' in html


def test_jpeg_proof_moves_the_order_and_tells_the_chat(client, container, awaiting, notifier):
    order, token = awaiting
    response = upload(client, token, photo(exif=True), account_last5="１２３４５",
                      transferred_at="2026-03-01T09:30")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "等待商家核對" in page and 'data-status="proof_submitted"' in page
    assert container.orders.get(order.number).status is S.PROOF_SUBMITTED
    [(media_id, last5, at, source)] = proofs(container, order)
    assert (last5, source) == ("12345", "order_page")
    assert at == datetime(2026, 3, 1, 1, 30, tzinfo=timezone.utc)  # 09:30 in Taipei
    path, content_type = container.media.open(media_id)
    assert content_type == "image/jpeg"
    with Image.open(path) as stored:
        assert not stored.getexif()
    assert notifier.sent == [(order.conversation_id, ["已收到轉帳證明，等待商家核對"],
                              {"automated_update": True,
                               "applies_if": {"order": order.number,
                                              "status": "proof_submitted"}})]
    assert notifier.admins and order.number in notifier.admins[0][0]


def test_customer_may_upload_again_until_verified(client, container, awaiting):
    order, token = awaiting
    assert upload(client, token, photo("PNG"), "a.png").status_code == 303
    assert upload(client, token, photo("WEBP"), "b.webp").status_code == 303
    assert len(proofs(container, order)) == 2
    container.orders.verify_payment(order.number, actor="merchant")
    refused = upload(client, token, photo(), "c.jpg")
    assert refused.status_code == 409
    assert len(proofs(container, order)) == 2
    assert 'id="pay"' not in client.get(f"/o/{token}").get_data(as_text=True)


@pytest.mark.parametrize("data, name, status, reason", [
    (b"%PDF-1.7 not a picture", "slip.jpg", 400, "type"),
    (b"GIF89a" + photo("GIF")[6:], "slip.gif", 400, "type"),
    (b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024), "big.jpg", 413, "size"),
])
def test_refused_uploads_say_why_and_change_nothing(client, container, awaiting, notifier,
                                                    data, name, status, reason):
    order, token = awaiting
    response = upload(client, token, data, name)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert f'data-reason="{reason}"' in html
    assert container.orders.get(order.number).status is S.AWAITING_PAYMENT
    assert proofs(container, order) == [] and media_count(container) == 0
    assert notifier.sent == []


def test_decompression_bomb_is_refused_by_pixels(client, container, awaiting):
    order, token = awaiting
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")  # 48 megapixels in a few kilobytes
    response = upload(client, token, out.getvalue(), "bomb.png")
    assert response.status_code == 400
    assert 'data-reason="pixels"' in response.get_data(as_text=True)
    assert container.orders.get(order.number).status is S.AWAITING_PAYMENT


def test_body_over_the_request_limit_is_refused_as_too_large(client, container, awaiting):
    order, token = awaiting
    response = upload(client, token, b"\0" * (12 * 1024 * 1024), "huge.jpg")
    assert response.status_code == 413
    assert container.orders.get(order.number).status is S.AWAITING_PAYMENT


@pytest.mark.parametrize("fields, message", [
    ({"account_last5": "12a45"}, "帳號末五碼需為 5 位數字"),
    ({"transferred_at": "yesterday"}, "轉帳時間格式不正確"),
    ({"transferred_at": "2999-01-01T00:00"}, "轉帳時間不能晚於現在"),
])
def test_bad_optional_fields_keep_no_image(client, container, awaiting, fields, message):
    order, token = awaiting
    response = upload(client, token, photo(), **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert media_count(container) == 0 and proofs(container, order) == []


def test_no_file_and_no_form_token(client, container, awaiting):
    order, token = awaiting
    form_token = csrf_of(client.get(f"/o/{token}/pay").get_data(as_text=True))
    assert client.post(f"/o/{token}/pay", data={"csrf_token": form_token}).status_code == 400
    no_csrf = client.post(f"/o/{token}/pay", data={"proof": (io.BytesIO(photo()), "a.jpg")},
                          content_type="multipart/form-data")
    assert no_csrf.status_code == 403 and proofs(container, order) == []


def test_proof_before_confirming_is_refused(client, container):
    order = make_order(container)
    token = container.order_links.issue(order.id)
    assert 'id="pay"' not in client.get(f"/o/{token}").get_data(as_text=True)
    refused = upload(client, token, photo())
    assert refused.status_code == 409
    assert "請先確認訂單，再上傳轉帳證明" in refused.get_data(as_text=True)
    assert container.orders.get(order.number).status is S.SENT
