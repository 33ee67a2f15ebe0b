"""Presets as a person uses them (issue 26): made in the settings page, offered beside New chat, and a new chat that
starts from one and sends its settings to the model."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from testing.fakes.server import Script
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")


async def test_a_preset_made_in_settings_is_listed_with_what_it_sets(user: User) -> None:
    await register_and_sign_in(user)
    await user.open("/settings")
    await user.should_see("No presets yet.")
    user.find(marker="new-preset").click()
    await user.should_see(marker="preset-dialog")
    user.find(marker="preset-name").type("Translator")
    user.find(marker="preset-system-prompt").type("Translate into French.")
    user.find(marker="preset-temperature").elements.pop().set_value(3)
    user.find(marker="save-preset").click()
    await user.should_see("The temperature must be between 0 and 2.")  # the dialog stays open with the rule's words

    user.find(marker="preset-temperature").elements.pop().set_value(0.2)
    user.find(marker="save-preset").click()
    await user.should_see("the default model · temperature 0.2 · system prompt", retries=20)
    await user.should_not_see(marker="preset-dialog")
    [stored] = (await user.http_client.get("/api/presets")).json()
    assert (stored["name"], stored["system_prompt"], stored["temperature"]) == (
        "Translator",
        "Translate into French.",
        0.2,
    )


async def test_new_chat_offers_presets_and_the_chat_starts_with_its_settings(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Bonjour", "."]))
    await register_and_sign_in(user)
    made = await user.http_client.post(
        "/api/presets",
        json={
            "name": "French tutor",
            "system_prompt": "Answer in French.",
            "temperature": 0.4,
            "tools": ["chatui:current_time"],
        },
    )
    preset = made.json()
    await user.open("/")
    user.find(marker="preset-menu-button").click()
    await user.should_see("French tutor")
    user.find(marker="preset-item").click()
    await user.should_see(marker="preset-chip", retries=30)
    await user.should_see("Answer in French.")  # the system prompt chip shows what the chat starts with
    await user.should_see(marker="tools-button")
    assert user.find(marker="tools-button").elements.pop().props["aria-label"] == "Tools: 1 on"

    await send(user, "Say hello")
    await user.should_see("Bonjour.", retries=50)
    request = fake_ollama.requests[-1]
    assert request["messages"][0] == {"role": "system", "content": "Answer in French."}
    assert request["options"]["temperature"] == 0.4
    [conversation] = (await user.http_client.get("/api/conversations")).json()
    assert conversation["preset_id"] == preset["id"] and conversation["tools"] == ["chatui:current_time"]


async def test_a_preset_that_is_gone_leaves_a_plain_new_chat(user: User) -> None:
    await register_and_sign_in(user)
    await user.open("/?preset=no-such-preset")
    await user.should_see("That preset does not exist (any more): this is a plain new chat.")
    await user.should_not_see(marker="preset-chip")


async def test_an_administrator_publishes_a_preset_others_see_read_only(user: User, create_user) -> None:
    await register_and_sign_in(user, "root")  # the first account: the administrator
    await user.open("/settings")
    user.find(marker="new-preset").click()
    await user.should_see(marker="preset-shared")
    user.find(marker="preset-name").type("Company voice")
    user.find(marker="preset-system-prompt").type("Short and friendly.")
    user.find(marker="preset-shared").elements.pop().set_value(True)
    user.find(marker="save-preset").click()
    await user.should_see(marker="published", retries=20)

    other = create_user()
    await register_and_sign_in(other, "bob")
    await other.open("/settings")
    await other.should_see("Company voice")
    await other.should_see(marker="published")
    await other.should_not_see(marker="edit-preset")  # read-only for everyone but its owner and administrators
    other.find(marker="new-preset").click()
    await other.should_see(marker="preset-dialog")
    await other.should_not_see(marker="preset-shared")  # publishing is for administrators
    await other.open("/")
    other.find(marker="preset-menu-button").click()
    await other.should_see("Company voice")


async def test_a_preset_is_changed_and_deleted_from_settings(user: User) -> None:
    await register_and_sign_in(user)
    made = await user.http_client.post("/api/presets", json={"name": "Draft", "temperature": 1.0})
    preset_id = made.json()["id"]
    await user.open("/settings")
    await user.should_see("the default model · temperature 1")
    user.find(marker="edit-preset").click()
    await user.should_see(marker="preset-dialog")
    user.find(marker="preset-name").clear().type("Editor")
    user.find(marker="preset-temperature").elements.pop().set_value(None)
    user.find(marker="save-preset").click()
    await user.should_see("Editor", retries=20)
    stored = (await user.http_client.get(f"/api/presets/{preset_id}")).json()
    assert (stored["name"], stored["temperature"]) == ("Editor", None)

    user.find(marker="delete-preset").click()
    await user.should_see("Delete this preset?")
    user.find(marker="confirm-delete").click()
    await user.should_see("No presets yet.", retries=20)
    assert (await user.http_client.get(f"/api/presets/{preset_id}")).status_code == 404
