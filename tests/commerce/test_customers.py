"""Customers: contact normalisation, uniqueness, addresses, tags, credit ledger."""

import threading

import pytest
from sqlalchemy import select

from commerce.contact import normalize_email, normalize_tw_mobile
from commerce.customers import CreditEntry
from commerce.errors import Conflict, LimitExceeded, ValidationError
from commerce.services.customer_service import AddressInput


@pytest.mark.parametrize("raw", ["0912345678", "0912-345-678", "+886 912 345 678",
                                 "886912345678", "０９１２３４５６７８", " (0912) 345678 "])
def test_taiwan_mobile_normalised(raw):
    assert normalize_tw_mobile(raw) == "0912345678"


@pytest.mark.parametrize("raw", ["091234567", "0812345678", "09123456789", "abc", ""])
def test_bad_mobiles_refused(raw):
    with pytest.raises(ValidationError, match="手機"):
        normalize_tw_mobile(raw)


def test_email_normalised_and_checked():
    assert normalize_email("  Amy@Example.COM ") == "amy@example.com"
    with pytest.raises(ValidationError):
        normalize_email("not-an-email")


def test_phone_and_email_are_unique_after_normalising(shop):
    with pytest.raises(Conflict):
        shop.customers.create("冒名", phone="+886-912-345-678")
    with pytest.raises(Conflict):
        shop.customers.create("冒名", email="MING@example.com")


def test_find_by_contact_accepts_either_form(shop):
    by_phone = shop.customers.find_by_contact("0912 345 678")
    assert by_phone is not None
    assert shop.customers.find_by_contact("Ming@Example.com") == by_phone
    assert shop.customers.find_by_contact("nobody") is None


def test_five_addresses_then_refused(shop):
    cid = shop.customers.create("地址多", phone="0955000111")
    for i in range(5):
        shop.customers.add_address(cid, AddressInput("地址多", "0955000111", f"台北市{i}號"))
    with pytest.raises(LimitExceeded, match="5"):
        shop.customers.add_address(cid, AddressInput("地址多", "0955000111", "台北市6號"))


def test_tags_and_notes(shop):
    cid = shop.customers.create("標籤", phone="0955000222")
    shop.customers.add_tag(cid, "VIP")
    shop.customers.add_tag(cid, "VIP")
    shop.customers.add_note(cid, "喜歡藍色")
    with shop.uow() as session:
        from commerce.customers import Customer
        customer = session.get(Customer, cid)
        assert customer.tags == ["VIP"]
        assert customer.notes == "喜歡藍色"


def test_credit_ledger_never_negative(shop):
    cid = shop.customers.create("購物金", phone="0955000333")
    shop.customers.grant_credit(cid, 100, "gift")
    from commerce.services.customer_service import change_credit

    with shop.uow() as session:
        assert change_credit(session, cid, -60, "order_redeem") == 40
    with pytest.raises(ValidationError, match="不足"), shop.uow() as session:
        change_credit(session, cid, -41, "order_redeem")
    assert shop.customers.balance(cid) == 40
    with shop.uow() as session:
        entries = session.scalars(select(CreditEntry).where(CreditEntry.customer_id == cid)).all()
        assert [(e.amount, e.balance_after) for e in entries] == [(100, 100), (-60, 40)]
    with pytest.raises(ValidationError):
        shop.customers.grant_credit(cid, 0, "gift")


def test_concurrent_redemptions_cannot_overspend(shop):
    from commerce.services.customer_service import change_credit

    cid = shop.customers.create("併發", phone="0955000444")
    shop.customers.grant_credit(cid, 100, "gift")
    outcomes: list[bool] = []
    barrier = threading.Barrier(5)

    def spend():
        barrier.wait()
        try:
            with shop.uow() as session:
                change_credit(session, cid, -30, "order_redeem")
            outcomes.append(True)
        except ValidationError:
            outcomes.append(False)

    threads = [threading.Thread(target=spend) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count(True) == 3
    assert shop.customers.balance(cid) == 10


def test_saved_delivery_picks_the_address_that_fits_the_method(shop):
    meihua = shop.customers.find_by_contact("0922333444")
    pickup = shop.customers.saved_delivery(meihua, store_pickup=True)
    assert pickup["store"]["store_id"] == "131386"
    assert pickup["name"] == "林美華" and pickup["phone"] == "0922333444"
    assert shop.customers.saved_delivery(meihua, store_pickup=False) == {}
    ming = shop.customers.find_by_contact("0912345678")
    home = shop.customers.saved_delivery(ming, store_pickup=False)
    assert home["address"].startswith("台北市大安區")
