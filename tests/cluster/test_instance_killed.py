"""kill -9 of an instance mid-reply: its reply becomes `interrupted` with its checkpointed text, found by the other
instance's sweep within about two lease periods, while the other instance's own replies go on untouched."""

from __future__ import annotations

import asyncio
import json

import httpx

from testing.fakes.server import Script
from tests.api.conftest import Account
from tests.cluster.conftest import two_instances
from tests.cluster.frames import first_tokens, frames_until

LONG = [f"k{i} " for i in range(600)]


async def test_the_killed_instances_reply_is_interrupted_and_the_survivors_goes_on(
    tmp_path_factory, ollama_server, fake_ollama
):
    with two_instances(tmp_path_factory, ollama_server[1].url, CHATUI_MESSAGES_PER_MINUTE="100") as (a, b):
        async with httpx.AsyncClient(base_url=b.url, timeout=10) as client:
            user = await Account.sign_up(client, "survivor")
            on_a_conversation = await user.new_conversation()
            on_b_conversation = await user.new_conversation()
            fake_ollama.then(Script(tokens=LONG, delay=0.01), Script(tokens=LONG, delay=0.01))
            async with (
                user.socket(a, on_a_conversation) as written_on_a,
                user.socket(b, on_a_conversation) as followed_from_b,
                user.socket(b, on_b_conversation) as written_on_b,
            ):
                await written_on_a.send(json.dumps({"type": "message", "content": "count on A"}))
                await written_on_b.send(json.dumps({"type": "message", "content": "count on B"}))
                streamed = [f["token"] for f in await first_tokens(written_on_a, 150)]  # > 1 s: checkpointed
                a.kill()
                killed_at = asyncio.get_running_loop().time()
                followed = await frames_until(followed_from_b, "done")  # the sweep on B ends the mirror too
                noticed_after = asyncio.get_running_loop().time() - killed_at
                survivor = await frames_until(written_on_b, "done")

            messages = (await client.get(f"/api/conversations/{on_a_conversation}")).json()["messages"]
            mine = (await client.get(f"/api/conversations/{on_b_conversation}")).json()["messages"]

    assert followed[-1]["status"] == "interrupted"
    assert noticed_after < 2 * 1.0 + 2.5  # two lease periods of 1 s, and time for a loaded machine
    reply = messages[-1]
    assert reply["status"] == "interrupted"
    assert 0 < len(reply["content"].split()) < len(LONG)  # its last checkpoint, taken before the kill
    assert reply["content"].startswith("".join(streamed[:20]))
    assert "".join(LONG).startswith(reply["content"])
    assert survivor[-1]["status"] == "done"
    assert [f["token"] for f in survivor if f["type"] == "token"] == LONG
    assert mine[-1]["status"] == "done" and mine[-1]["content"] == "".join(LONG)
