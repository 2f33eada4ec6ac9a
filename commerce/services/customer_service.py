"""Customers: creation with normalised contacts, addresses, tags, notes, and the
store-credit ledger (balance never negative, every movement recorded)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.contact import normalize_email, normalize_tw_mobile
from commerce.customers import Address, CreditEntry, Customer
from commerce.errors import Conflict, NotFound, ValidationError
from commerce.services.uow import UnitOfWork


@dataclass(frozen=True)
class AddressInput:
    recipient_name: str
    recipient_phone: str
    address: str = ""
    kind: str = "home"
    label: str = ""
    store: dict | None = None


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"找不到顧客 #{customer_id}", field="customer")
    return customer


class CustomerService:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def create(
        self, name: str, *, phone: str | None = None, email: str | None = None,
        tier: str = "regular",
    ) -> int:
        name = name.strip()
        if not name:
            raise ValidationError("顧客姓名不可空白", field="name")
        customer = Customer(
            name=name,
            phone=normalize_tw_mobile(phone) if phone else None,
            email=normalize_email(email) if email else None,
            tier=tier,
        )
        try:
            with self._uow() as session:
                session.add(customer)
                session.flush()
                return customer.id
        except IntegrityError as exc:
            raise Conflict("此手機或電子郵件已屬於另一位顧客", field="contact") from exc

    def find_by_contact(self, text: str) -> int | None:
        """A customer by phone or e-mail as typed (normalised first), or None."""
        candidates: list[str] = []
        for normalise in (normalize_tw_mobile, normalize_email):
            try:
                candidates.append(normalise(text))
            except ValidationError:
                continue
        if not candidates:
            return None
        with self._uow.read() as session:
            return session.scalar(
                select(Customer.id).where(
                    or_(Customer.phone.in_(candidates), Customer.email.in_(candidates))
                )
            )

    def add_address(self, customer_id: int, data: AddressInput) -> int:
        with self._uow() as session:
            customer = get_customer(session, customer_id)
            address = Address(
                recipient_name=data.recipient_name.strip(),
                recipient_phone=normalize_tw_mobile(data.recipient_phone),
                address=data.address.strip(), kind=data.kind, label=data.label, store=data.store,
            )
            customer.add_address(address)
            session.flush()
            return address.id

    def saved_delivery(self, customer_id: int, *, store_pickup: bool) -> dict:
        """The first saved address that fits the delivery kind, as an order's
        delivery details (``name``, ``phone`` and ``store`` or ``address``); empty
        when the customer saved none, so the merchant fills it in later."""
        wanted = "cvs" if store_pickup else "home"
        with self._uow.read() as session:
            for address in get_customer(session, customer_id).addresses:
                if address.kind != wanted:
                    continue
                details = {"name": address.recipient_name, "phone": address.recipient_phone}
                if store_pickup:
                    details["store"] = dict(address.store or {})
                else:
                    details["address"] = address.address
                return details
        return {}

    def add_tag(self, customer_id: int, tag: str) -> None:
        with self._uow() as session:
            get_customer(session, customer_id).add_tag(tag)

    def add_note(self, customer_id: int, text: str) -> None:
        with self._uow() as session:
            get_customer(session, customer_id).add_note(text)

    def grant_credit(self, customer_id: int, amount: int, reason: str, note: str = "") -> int:
        if amount <= 0:
            raise ValidationError("購物金金額必須大於 0", field="amount")
        with self._uow() as session:
            return change_credit(session, customer_id, amount, reason, note=note)

    def balance(self, customer_id: int) -> int:
        with self._uow.read() as session:
            return get_customer(session, customer_id).credit_balance


def change_credit(
    session: Session, customer_id: int, amount: int, reason: str, *,
    order_id: int | None = None, note: str = "",
) -> int:
    """Move store credit by ``amount`` (negative = spend) inside the caller's transaction.

    The conditional UPDATE makes overspending impossible even when two orders
    redeem the same balance at once; returns the new balance.
    """
    stmt = (
        update(Customer)
        .where(Customer.id == customer_id, Customer.credit_balance + amount >= 0)
        .values(credit_balance=Customer.credit_balance + amount)
        .returning(Customer.credit_balance)
        .execution_options(synchronize_session=False)
    )
    balance = session.execute(stmt).scalar_one_or_none()
    if balance is None:
        get_customer(session, customer_id)
        raise ValidationError("購物金餘額不足", field="credit")
    session.add(CreditEntry(
        customer_id=customer_id, amount=amount, balance_after=balance, reason=reason,
        order_id=order_id, note=note,
    ))
    customer = session.get(Customer, customer_id)
    if customer is not None:
        session.refresh(customer, ["credit_balance"])
    return balance
