"""Users and their server-side sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.models import Session, User, new_id, utcnow


class UsernameTaken(Exception):
    """Another account already has this name (names compare case-insensitively)."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session and the account it belongs to."""

    session: Session
    user: User


class AccountRepository:
    def __init__(self, db: Database) -> None:
        self._sessions = db.sessions

    async def create_user(self, username: str, password_hash: str) -> User:
        """Add an account; the very first one becomes admin (decided in the same statement as the insert)."""
        user_id = new_id()
        first = select(func.count()).select_from(User).scalar_subquery() == 0
        async with self._sessions() as s, s.begin():
            try:
                await s.execute(
                    insert(User).values(
                        id=user_id,
                        username=username,
                        password_hash=password_hash,
                        is_admin=first,
                        is_disabled=False,
                        created_at=utcnow(),
                    )
                )
            except IntegrityError as exc:
                raise UsernameTaken(username) from exc
        user = await self.user_by_id(user_id)
        assert user is not None
        return user

    async def user_by_id(self, user_id: str) -> User | None:
        async with self._sessions() as s:
            return await s.get(User, user_id)

    async def user_by_name(self, username: str) -> User | None:
        async with self._sessions() as s:
            result = await s.execute(select(User).where(func.lower(User.username) == username.lower()))
            return result.scalar_one_or_none()

    async def list_users(self) -> list[User]:
        async with self._sessions() as s:
            return list((await s.execute(select(User).order_by(User.created_at))).scalars())

    async def set_disabled(self, user_id: str, disabled: bool) -> bool:
        async with self._sessions() as s, s.begin():
            result = await s.execute(update(User).where(User.id == user_id).values(is_disabled=disabled))
            return result.rowcount > 0  # type: ignore[attr-defined]

    async def set_password_hash(self, user_id: str, password_hash: str) -> bool:
        async with self._sessions() as s, s.begin():
            result = await s.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))
            return result.rowcount > 0  # type: ignore[attr-defined]

    async def create_session(
        self,
        user_id: str,
        *,
        expires_at: datetime,
        token_hash: str | None = None,
        ticket_hash: str | None = None,
        ticket_expires_at: datetime | None = None,
    ) -> Session:
        now = utcnow()
        session = Session(
            id=new_id(),
            user_id=user_id,
            token_hash=token_hash,
            ticket_hash=ticket_hash,
            ticket_expires_at=ticket_expires_at,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
        async with self._sessions() as s, s.begin():
            s.add(session)
        return session

    async def redeem_ticket(self, ticket_hash: str, token_hash: str, now: datetime) -> Session | None:
        """Swap a one-time sign-in ticket for a session token; a ticket works once and only before it expires."""
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(Session)
                .where(
                    Session.ticket_hash == ticket_hash,
                    Session.ticket_expires_at > now,
                    Session.revoked_at.is_(None),
                    Session.token_hash.is_(None),
                )
                .values(ticket_hash=None, ticket_expires_at=None, token_hash=token_hash, last_seen_at=now)
                .returning(Session.id)
            )
            session_id = result.scalar_one_or_none()
            return await s.get(Session, session_id) if session_id else None

    async def signed_in(self, token_hash: str) -> SignedIn | None:
        """The session and account for a cookie token, whatever their state (the caller checks expiry)."""
        async with self._sessions() as s:
            row = (
                await s.execute(select(Session, User).join(User).where(Session.token_hash == token_hash))
            ).one_or_none()
            return SignedIn(row[0], row[1]) if row else None

    async def touch_session(self, session_id: str, now: datetime) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(update(Session).where(Session.id == session_id).values(last_seen_at=now))

    async def revoke_session(self, session_id: str) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(
                update(Session)
                .where(Session.id == session_id, Session.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )

    async def revoke_user_sessions(self, user_id: str) -> int:
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(Session)
                .where(Session.user_id == user_id, Session.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            return result.rowcount  # type: ignore[attr-defined,no-any-return]
