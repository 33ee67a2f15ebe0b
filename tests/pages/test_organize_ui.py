"""The sidebar's pins, folders, tags, Archived view and Select mode, as a person uses them (issue 26)."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from tests.pages.test_chat_flow import register_and_sign_in

pytestmark = pytest.mark.usefixtures("app_env")


async def make(user: User, *titles: str) -> list[str]:
    ids = []
    for title in titles:
        response = await user.http_client.post("/api/conversations", json={"title": title})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def row_menu(user: User, conversation_id: str, entry: str) -> None:
    user.find(marker=f"row-menu-{conversation_id}").click()
    await user.should_see(marker=entry)
    user.find(marker=entry).click()


async def test_pin_archive_and_the_archived_view(user: User) -> None:
    await register_and_sign_in(user)
    old, _, gone = await make(user, "Old plan", "Middle", "To archive")
    await user.open("/")
    await user.should_see("To archive")

    await row_menu(user, old, "pin-conversation")
    await user.should_see("Pinned")
    await row_menu(user, gone, "archive-conversation")
    await user.should_not_see("To archive", retries=20)

    user.find(marker="archived-view").click()
    await user.should_see("To archive")
    await user.should_not_see("Middle")
    await row_menu(user, gone, "archive-conversation")  # Unarchive
    await user.should_see("Nothing archived.")
    listed = (await user.http_client.get("/api/conversations")).json()
    assert [(c["title"], c["pinned"]) for c in listed][:1] == [("Old plan", True)]
    assert len(listed) == 3


async def test_a_folder_made_in_the_sidebar_holds_what_is_moved_into_it(user: User) -> None:
    await register_and_sign_in(user)
    [report] = await make(user, "Q3 report")
    await user.open("/")
    user.find(marker="new-folder").click()
    await user.should_see("New folder")
    user.find("Name").type("Work")
    user.find(marker="create-folder").click()
    await user.should_see(marker="folder")

    await row_menu(user, report, "move-conversation")
    await user.should_see(marker="folder-choice")
    [folder] = (await user.http_client.get("/api/folders")).json()
    user.find(marker="folder-choice").elements.pop().set_value(folder["id"])
    user.find(marker="move-to-folder").click()
    await user.should_not_see(marker="conversation-item", retries=20)  # out of the unfiled list, into the folder
    user.find(marker="folder").elements.pop().set_value(True)  # open it
    await user.should_see("Q3 report", retries=20)
    detail = (await user.http_client.get(f"/api/conversations/{report}")).json()
    assert detail["folder_id"] == folder["id"]


async def test_tags_become_chips_that_filter_the_list(user: User) -> None:
    await register_and_sign_in(user)
    taxes, _ = await make(user, "Taxes", "Poem")
    await user.open("/")
    await row_menu(user, taxes, "tag-conversation")
    await user.should_see("Tags, separated by commas")
    user.find("Tags, separated by commas").type("Money, work")
    user.find(marker="save-tags").click()
    await user.should_see(marker="tag-money", retries=20)
    user.find(marker="tag-work").click()
    await user.should_see("Tag: work")
    await user.should_not_see("Poem")
    user.find(marker="tag-work").click()
    await user.should_see("Poem")


async def test_select_mode_archives_several_at_once(user: User) -> None:
    await register_and_sign_in(user)
    one, two, _ = await make(user, "One", "Two", "Three")
    await user.open("/")
    await user.should_see("Three")
    user.find(marker="select-mode").click()
    await user.should_see("0 selected")
    user.find(marker=f"row-{one}").click()
    user.find(marker=f"row-{two}").click()
    await user.should_see("2 selected")
    user.find(marker="bulk-archive").click()
    await user.should_not_see("One", retries=20)
    archived = (await user.http_client.get("/api/conversations", params={"archived": "true"})).json()
    assert sorted(c["title"] for c in archived) == ["One", "Two"]
