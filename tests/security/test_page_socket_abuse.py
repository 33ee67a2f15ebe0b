"""NiceGUI's socket used against other pages and against the server log."""

from __future__ import annotations

from testing.live import LiveApp
from tests.page_socket import PageSocket

FORGED = "ERROR:chatui.accounts.auth:admin signed in from 10.0.0.1"


async def test_a_socket_cannot_send_events_for_another_page(live_app: LiveApp, make_account) -> None:
    victim = await make_account()
    conversation_id = await victim.new_conversation(title="Mine")
    page = await PageSocket.open(live_app.url, f"/chat/{conversation_id}", victim.cookie)
    intruder = await PageSocket.open(live_app.url, "/login")  # a socket of its own, on a page anyone may load
    try:
        delete = page.find("Delete")
        assert delete is not None
        intruder.client_id = page.client_id  # it learnt the victim page's id somehow, and claims it
        intruder.known.update(page.known)
        await intruder.click(delete)
        assert await page.wait_for_text("Delete conversation?", within=1.5) is None
    finally:
        await intruder.close()
        await page.close()


async def test_the_browser_log_event_cannot_forge_server_log_lines(live_app: LiveApp) -> None:
    page = await PageSocket.open(live_app.url, "/login")
    try:
        for level in ("error", "critical", "no-such-level"):
            message = {"client_id": page.client_id, "level": level, "message": f"boom {level}\n{FORGED}"}
            await page.sio.call("log", message, timeout=5)  # answered once the server has handled it
    finally:
        await page.close()
    lines = live_app.log().splitlines()
    assert not any(line.startswith(FORGED) for line in lines)
    logged = [line for line in lines if "boom error" in line]
    assert len(logged) == 1 and "\\n" + FORGED in logged[0]  # one line, the newline shown as \n
    assert "boom no-such-level" not in live_app.log()
