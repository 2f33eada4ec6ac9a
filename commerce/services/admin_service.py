"""Merchant admins (chat identities), one-time invite codes and API tokens.

Codes and tokens are shown once and stored only as SHA-256 hashes: a leaked
database does not leak a way in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update

from commerce.conversations import Conversation
from commerce.errors import ValidationError
from commerce.records import Admin, AdminInvite, ApiToken
from commerce.services.uow import UnitOfWork

Identity = tuple[str, str, str]  # channel, account, user id


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AdminService:
    def __init__(self, uow: UnitOfWork, configured: Iterable[Identity] = ()) -> None:
        self._uow = uow
        self._configured = set(configured)

    def is_admin(self, channel: str, account: str, user_id: str) -> bool:
        if (channel, account, user_id) in self._configured:
            return True
        with self._uow.read() as session:
            return session.scalar(select(Admin.id).where(
                Admin.channel == channel, Admin.account == account, Admin.user_id == user_id
            )) is not None

    def identities(self) -> set[Identity]:
        with self._uow.read() as session:
            rows = session.execute(select(Admin.channel, Admin.account, Admin.user_id)).all()
        return self._configured | {tuple(r) for r in rows}

    def conversation_ids(self) -> list[int]:
        identities = self.identities()
        if not identities:
            return []
        with self._uow.read() as session:
            return list(session.scalars(select(Conversation.id).where(or_(*[
                and_(Conversation.channel == c, Conversation.account == a,
                     Conversation.user_id == u) for c, a, u in identities
            ]))))

    def invite(self, ttl: timedelta = timedelta(hours=24)) -> str:
        code = secrets.token_hex(4).upper()
        with self._uow() as session:
            session.add(AdminInvite(code_hash=digest(code),
                                    expires_at=datetime.now(timezone.utc) + ttl))
        return code

    def redeem(self, code: str, identity: Identity, name: str = "") -> bool:
        """Register ``identity`` as an admin with a one-time code; False if refused."""
        now = datetime.now(timezone.utc)
        with self._uow() as session:
            invite = session.scalar(select(AdminInvite).where(
                AdminInvite.code_hash == digest(code.strip().upper())))
            if invite is None or invite.used_at is not None or invite.expires_at <= now:
                return False
            channel, account, user_id = identity
            admin = session.scalar(select(Admin).where(
                Admin.channel == channel, Admin.account == account, Admin.user_id == user_id))
            if admin is None:
                admin = Admin(channel=channel, account=account, user_id=user_id, name=name)
                session.add(admin)
                session.flush()
            claimed = session.execute(
                update(AdminInvite).where(AdminInvite.id == invite.id,
                                          AdminInvite.used_at.is_(None))
                .values(used_at=now, used_by_admin_id=admin.id)
            ).rowcount
            if claimed != 1:
                raise ValidationError("邀請碼已被使用", field="code")
            return True

    def create_token(self, name: str = "") -> str:
        token = "cc_" + secrets.token_urlsafe(32)
        with self._uow() as session:
            session.add(ApiToken(token_hash=digest(token), name=name))
        return token

    def check_token(self, token: str) -> bool:
        if not token:
            return False
        with self._uow.read() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token),
                                                        ApiToken.revoked_at.is_(None)))
            return row is not None and hmac.compare_digest(row.token_hash, digest(token))
