"""A chatui client in thirty lines: sign in, create a conversation, stream a reply over `/ws`.

    python examples/ws_client.py --url http://127.0.0.1:8001 --username alice --password 'correct horse'
        [--register] [--message "What is 5 plus 3? Give me a very brief answer."]

Needs `httpx` and `websockets` (both installed with `pip install -e '.[test]'`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import httpx
from websockets.asyncio.client import connect


async def main(url: str, username: str, password: str, message: str, register: bool) -> int:
    async with httpx.AsyncClient(base_url=url) as api:
        credentials = {"username": username, "password": password}
        if register:
            await api.post("/api/auth/register", json=credentials)  # 409 if it exists: fine
        login = await api.post("/api/auth/login", json=credentials)
        if login.status_code != 200:
            print(f"sign-in failed: {login.status_code} {login.json().get('detail')}", file=sys.stderr)
            return 1
        conversation = (await api.post("/api/conversations", json={})).json()
        cookie = {"Cookie": f"chatui_session={api.cookies['chatui_session']}"}
        ws_url = url.replace("http", "ws", 1) + f"/ws/{conversation['id']}"
        async with connect(ws_url, additional_headers=cookie) as ws:
            await ws.send(json.dumps({"type": "message", "content": message}))
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "token":
                    print(frame["token"], end="", flush=True)
                elif frame["type"] == "error":
                    print(f"\n[error: {frame['code']}] {frame['error']}", file=sys.stderr)
                elif frame["type"] == "done":
                    print(f"\n[{frame['status']}, {frame['tokens']} tokens]")
                    return 0 if frame["status"] == "done" else 1
    return 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--message", default="What is 5 plus 3? Give me a very brief answer.")
    parser.add_argument("--register", action="store_true", help="create the account first")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.username, args.password, args.message, args.register)))
