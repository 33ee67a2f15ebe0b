"""The account service's rules hold whoever calls it (a page, a route, a script): administrators only, never
disable yourself, and a new password ends every session of the account in the same transaction."""

from __future__ import annotations

import pytest

from chatui.accounts.errors import AuthError, AuthRefusal
from chatui.bootstrap import Services


async def two_accounts(services: Services):
    admin = await services.auth.register("admin", "password123")  # the first account is the administrator
    user = await services.auth.register("member", "password123")
    return admin, user


async def test_an_administrator_cannot_disable_their_own_account(services):
    admin, _ = await two_accounts(services)
    with pytest.raises(AuthError) as refused:
        await services.accounts.set_disabled(admin.id, True, by=admin)
    assert refused.value.reason is AuthRefusal.NOT_YOURSELF
    assert not (await services.store.accounts.user_by_id(admin.id)).is_disabled


async def test_only_administrators_list_or_change_accounts(services):
    admin, member = await two_accounts(services)
    for change in (
        services.accounts.list_users(by=member),
        services.accounts.set_disabled(admin.id, True, by=member),
        services.accounts.reset_password(admin.id, "taken over!", by=member),
    ):
        with pytest.raises(AuthError) as refused:
            await change
        assert refused.value.reason is AuthRefusal.ADMINS_ONLY
    assert not (await services.store.accounts.user_by_id(admin.id)).is_disabled
    assert [u.username for u in await services.accounts.list_users(by=admin)] == ["admin", "member"]


async def test_disabling_ends_sessions_and_enabling_lets_the_account_back_in(services):
    admin, member = await two_accounts(services)
    token = await services.auth.start_session(member)
    disabled = await services.accounts.set_disabled(member.id, True, by=admin)
    assert disabled.is_disabled
    assert await services.auth.resolve(token) is None
    assert not (await services.accounts.set_disabled(member.id, False, by=admin)).is_disabled
    assert await services.auth.authenticate("member", "password123", "10.0.0.1")


async def test_an_unknown_account_is_refused_as_such(services):
    admin, _ = await two_accounts(services)
    with pytest.raises(AuthError) as refused:
        await services.accounts.set_disabled("no-such-id", True, by=admin)
    assert refused.value.reason is AuthRefusal.NO_SUCH_USER


async def test_a_new_password_and_the_end_of_the_sessions_are_one_transaction(services):
    _, member = await two_accounts(services)
    token = await services.auth.start_session(member)
    session = (await services.store.accounts.signed_in(services.auth.token_hash(token))).session
    assert await services.store.accounts.set_password_hash(member.id, "new hash")  # the one write, nothing else
    found = await services.store.accounts.signed_in(services.auth.token_hash(token))
    assert found.session.id == session.id and found.session.revoked_at is not None
    assert found.user.password_hash == "new hash"


async def test_an_administrator_reset_ends_the_sessions_and_sets_the_password(services):
    admin, member = await two_accounts(services)
    token = await services.auth.start_session(member)
    await services.accounts.reset_password(member.id, "a new password", by=admin)
    assert await services.auth.resolve(token) is None
    assert await services.auth.authenticate("member", "a new password", "10.0.0.1")
    with pytest.raises(AuthError) as refused:
        await services.accounts.reset_password(member.id, "short", by=admin)
    assert refused.value.reason is AuthRefusal.INVALID_REGISTRATION


async def test_the_theme_is_stored_and_only_a_known_one(services):
    _, member = await two_accounts(services)
    await services.accounts.set_theme(member.id, "dark")
    assert (await services.store.accounts.user_by_id(member.id)).theme == "dark"
    with pytest.raises(ValueError):
        await services.accounts.set_theme(member.id, "purple")
