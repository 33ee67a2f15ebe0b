"""Users and their server-side sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import LABEL_STYLE_TABLENAME_PLUS_COL, Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from storage.database import Repository, grouped, rows_changed, transaction
from storage.models import AppSetting, Invite, Session, User, new_id, utcnow


class UsernameTaken(Exception):
    """Another account already has this name (names compare case-insensitively)."""


class NotFirst(Exception):
    """Only the first account could be created (sign-up is closed), and there is one already."""


class InviteUnusable(Exception):
    """No such invitation, or it was used, or it expired."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session and the account it belongs to."""

    session: Session
    user: User


class AccountRepository(Repository):
    @transaction
    def create_user(
        self,
        s: OrmSession,
        username: str,
        password_hash: str,
        *,
        approved: bool = True,
        only_first: bool = False,
        invite_hash: str | None = None,
    ) -> User:
        """Add an account; the very first one becomes admin and is approved (decided in the same statement as the
        insert). `only_first`: refuse (`NotFirst`) unless it is the first. `invite_hash`: an invitation used up in the
        same transaction (`InviteUnusable` if it cannot be), so two sign-ups can never share one."""
        user_id = new_id()
        now = utcnow()
        first = select(func.count()).select_from(User).scalar_subquery() == 0
        try:
            s.execute(
                insert(User).values(
                    id=user_id,
                    username=username,
                    password_hash=password_hash,
                    is_admin=first,
                    is_disabled=False,
                    is_approved=True if approved else first,
                    created_at=now,
                    theme="system",
                )
            )
        except IntegrityError as exc:
            raise UsernameTaken(username) from exc
        user = s.get_one(User, user_id)
        if only_first and not user.is_admin:
            raise NotFirst  # the transaction rolls back: no account
        if invite_hash is not None:
            used = s.execute(
                update(Invite)
                .where(Invite.token_hash == invite_hash, Invite.used_at.is_(None), Invite.expires_at > now)
                .values(used_at=now, used_by=user_id)
            )
            if rows_changed(used) == 0:
                raise InviteUnusable
        return user

    @transaction
    def has_users(self, s: OrmSession) -> bool:
        return s.execute(select(User.id).limit(1)).first() is not None

    @transaction
    def set_admin(self, s: OrmSession, user_id: str, is_admin: bool) -> bool:
        return _update_user(s, user_id, is_admin=is_admin)

    @transaction
    def set_approved(self, s: OrmSession, user_id: str, approved: bool) -> bool:
        """Approve an account, or take the approval back (its sessions end in the same transaction)."""
        if not _update_user(s, user_id, is_approved=approved):
            return False
        if not approved:
            _revoke_sessions(s, user_id)
        return True

    @transaction
    def delete_user(self, s: OrmSession, user_id: str) -> bool:
        """Delete an account and, by the foreign keys' cascades, everything it owns (sessions, conversations,
        messages, imports' records, pending undos)."""
        return rows_changed(s.execute(delete(User).where(User.id == user_id))) > 0

    @transaction
    def create_invite(self, s: OrmSession, token_hash: str, created_by: str, expires_at: datetime) -> None:
        s.add(Invite(token_hash=token_hash, created_by=created_by, created_at=utcnow(), expires_at=expires_at))

    @transaction
    def invite_usable(self, s: OrmSession, token_hash: str) -> bool:
        """Whether an invitation would be accepted now (the sign-up page says so before anyone types)."""
        found = s.execute(
            select(Invite.token_hash).where(
                Invite.token_hash == token_hash, Invite.used_at.is_(None), Invite.expires_at > utcnow()
            )
        )
        return found.first() is not None

    @transaction
    def app_setting(self, s: OrmSession, key: str) -> str | None:
        return s.scalar(select(AppSetting.value).where(AppSetting.key == key))

    @transaction
    def set_app_setting(self, s: OrmSession, key: str, value: str) -> None:
        s.merge(AppSetting(key=key, value=value))

    @transaction
    def user_by_id(self, s: OrmSession, user_id: str) -> User | None:
        return s.get(User, user_id)

    @transaction
    def user_by_name(self, s: OrmSession, username: str) -> User | None:
        result = s.execute(select(User).where(func.lower(User.username) == username.lower()))
        return result.scalar_one_or_none()

    @transaction
    def list_users(self, s: OrmSession) -> list[User]:
        return list((s.execute(select(User).order_by(User.created_at))).scalars())

    @transaction
    def set_disabled(self, s: OrmSession, user_id: str, disabled: bool) -> bool:
        return _update_user(s, user_id, is_disabled=disabled)

    @transaction
    def set_password_hash(self, s: OrmSession, user_id: str, password_hash: str) -> bool:
        """Set a new password and end every session of the account, in one transaction: no crash can leave the new
        password set with the old sessions still alive. False when there is no such account."""
        if not _update_user(s, user_id, password_hash=password_hash):
            return False
        _revoke_sessions(s, user_id)
        return True

    @transaction
    def set_theme(self, s: OrmSession, user_id: str, theme: str) -> bool:
        return _update_user(s, user_id, theme=theme)

    @transaction
    def set_dismissed_fallback(self, s: OrmSession, user_id: str, default_model: str) -> bool:
        return _update_user(s, user_id, dismissed_fallback=default_model)

    @transaction
    def default_system_prompt(self, s: OrmSession, user_id: str) -> str | None:
        """The system prompt new conversations of this user start with (account settings)."""
        return s.scalar(select(User.default_system_prompt).where(User.id == user_id))

    @transaction
    def set_default_system_prompt(self, s: OrmSession, user_id: str, prompt: str | None) -> bool:
        return _update_user(s, user_id, default_system_prompt=prompt)

    @transaction
    def default_tools(self, s: OrmSession, user_id: str) -> list[str]:
        """The tools new conversations of this user start with (account settings)."""
        return list(s.scalar(select(User.default_tools).where(User.id == user_id)) or [])

    @transaction
    def set_default_tools(self, s: OrmSession, user_id: str, tools: list[str]) -> bool:
        return _update_user(s, user_id, default_tools=tools or None)

    @transaction
    def create_session(
        self,
        s: OrmSession,
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
        s.add(session)
        return session

    @transaction
    def redeem_ticket(self, s: OrmSession, ticket_hash: str, token_hash: str, now: datetime) -> Session | None:
        """Swap a one-time sign-in ticket for a session token; a ticket works once and only before it expires."""
        result = s.execute(
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
        return s.get(Session, session_id) if session_id else None

    @grouped
    def signed_in(self, c: Connection, token_hash: str) -> SignedIn | None:
        """The session and account for a cookie token, whatever their state (the caller checks expiry).

        Read on every request and socket handshake, so a prepared statement in a shared transaction, its row made
        into (detached) objects by hand: the ORM read took 0.75 ms of the database thread, this ~0.1 ms.
        """
        row = c.execute(_SIGNED_IN, {"token_hash": token_hash}).one_or_none()
        if row is None:
            return None
        values = row._mapping
        session = Session(**{column.key: values[column] for column in _SESSION_COLUMNS})
        user = User(**{column.key: values[column] for column in _USER_COLUMNS})
        return SignedIn(session, user)

    @transaction
    def touch_session(self, s: OrmSession, session_id: str, now: datetime) -> None:
        s.execute(update(Session).where(Session.id == session_id).values(last_seen_at=now))

    @transaction
    def revoke_session(self, s: OrmSession, session_id: str) -> None:
        s.execute(
            update(Session).where(Session.id == session_id, Session.revoked_at.is_(None)).values(revoked_at=utcnow())
        )

    @transaction
    def revoke_user_sessions(self, s: OrmSession, user_id: str) -> int:
        return _revoke_sessions(s, user_id)


def _revoke_sessions(s: OrmSession, user_id: str) -> int:
    """End every live session of one account; how many there were."""
    result = s.execute(
        update(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return rows_changed(result)


def _update_user(s: OrmSession, user_id: str, **values: object) -> bool:
    """Set columns of one account; False when there is no such account."""
    result = s.execute(update(User).where(User.id == user_id).values(**values))
    return rows_changed(result) > 0


_SESSION_COLUMNS = tuple(Session.__table__.columns)
_USER_COLUMNS = tuple(User.__table__.columns)
_SIGNED_IN = (
    select(*_SESSION_COLUMNS, *_USER_COLUMNS)
    .join_from(Session.__table__, User.__table__, Session.__table__.c.user_id == User.__table__.c.id)
    .where(Session.__table__.c.token_hash == bindparam("token_hash"))
    .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
)
