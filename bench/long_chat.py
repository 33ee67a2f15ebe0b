"""Long conversations and big accounts, in headless Chromium: how fast a page opens whatever the history.

    python -m bench.long_chat [--sizes 10 2000 10000 100000] [--runs 5] [--conversations 10 10000]

One chatui server and one account; conversations of each size are written straight into its SQLite file (mixed
Markdown: prose, lists, code, tables; `testing/seed.py`), as are two more accounts with 10 and 10,000 conversations.
Debian's Chromium (the flags of testing/chromium.py) opens the pages with the account's cookie.

Measured:
  * open: from navigation start to the first frame in which the conversation's last message is inside the viewport
    (an init script checks on every animation frame; `performance.now()` counts from the navigation). The first
    open of each size is reported apart ("cold": its Markdown is rendered then), the figure is the median of the
    next `--runs`;
  * scroll up: from `scrollTo(0, 0)` at the top of the shown messages to the frame after the older page was in
    (the rows changed), `--runs` times in a row, on the largest conversation of at most 10,000 messages;
  * server time to open the page: `GET /chat/{id}` (the HTML) plus a socket.io connection to its first `update`,
    by a simulated browser (`bench.ui_pages.Page`), and the server's CPU time for that, median of 20;
  * the server's RSS before and after a Chromium page of the 10,000-message conversation was opened and closed
    (after 5 warm-up opens, so the render cache and NiceGUI's first-use costs are not counted as growth);
  * `/` for an account with 10 and one with 10,000 conversations: navigation to the first sidebar row visible,
    and the HTML's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, async_playwright

from bench._clients import Account, create_accounts
from bench._measure import wait_quiet
from bench._report import markdown_table, save
from bench._servers import ChatServer, environment, seed_database
from bench.ui_pages import Page
from testing.chromium import CHROMIUM, CHROMIUM_FLAGS
from testing.seed import seed_conversation, seed_conversations

# Records, on every frame, when the newest message (or the first sidebar row) is first seen inside the viewport.
WATCH = """
(() => {
  const inView = (e) => {
    const r = e.getBoundingClientRect();
    return r.height > 0 && r.top < innerHeight && r.bottom > 0;
  };
  const check = () => {
    const last = document.querySelector('.chatui-rows > :last-child .q-message');
    if (window.__lastVisible === undefined && last && inView(last)) {
      window.__lastVisible = performance.now();
      window.__lastText = last.innerText;
    }
    const row = document.querySelector('.conversation-row');
    if (window.__rowVisible === undefined && row && inView(row)) window.__rowVisible = performance.now();
    if (window.__lastVisible === undefined || window.__rowVisible === undefined) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""

SCROLL_UP = """
async () => {
  const rows = document.querySelector('.chatui-rows');
  const first = rows.firstElementChild;
  const t0 = performance.now();
  return await new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (rows.firstElementChild === first) return;
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - t0));
    });
    observer.observe(rows, { childList: true });
    window.scrollTo(0, 0);
    setTimeout(() => resolve(null), 10000);
  });
}
"""


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else float("nan")


async def me(server: ChatServer, account: Account) -> str:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.get("/api/auth/me", headers=account.headers)
        response.raise_for_status()
        return str(response.json()["id"])


async def context_for(browser: Browser, server: ChatServer, account: Account) -> BrowserContext:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.add_cookies([{"name": "chatui_session", "value": account.cookie, "url": server.url}])
    await context.add_init_script(WATCH)
    return context


async def open_once(context: BrowserContext, url: str, marker: str) -> tuple[float, str]:
    """Milliseconds from navigation to the watched thing in view, and the last message's text."""
    page = await context.new_page()
    try:
        await page.goto(url, wait_until="commit")
        await page.wait_for_function(f"window.{marker} !== undefined", timeout=60_000)
        return float(await page.evaluate(f"window.{marker}")), str(await page.evaluate("window.__lastText || ''"))
    finally:
        await page.close()


async def open_conversation(context: BrowserContext, server: ChatServer, conversation_id: str, size: int, runs: int):
    url = f"{server.url}/chat/{conversation_id}"
    cold, text = await open_once(context, url, "__lastVisible")
    assert f"{size - 1}" in text, f"the last message shown is not the conversation's last: {text[:80]!r}"
    warm = [(await open_once(context, url, "__lastVisible"))[0] for _ in range(runs)]
    return cold, warm


async def scroll_up(context: BrowserContext, server: ChatServer, conversation_id: str, times: int) -> list[float]:
    page = await context.new_page()
    try:
        await page.goto(f"{server.url}/chat/{conversation_id}")
        await page.wait_for_function("window.__lastVisible !== undefined", timeout=60_000)
        await page.wait_for_timeout(500)
        figures = []
        for _ in range(times):
            took = await page.evaluate(SCROLL_UP)
            if took is not None:
                figures.append(float(took))
            await page.wait_for_timeout(300)
        return figures
    finally:
        await page.close()


async def server_open(server: ChatServer, account: Account, conversation_id: str, runs: int) -> dict[str, float]:
    """The HTML, then socket.io to the first update, by a simulated browser; wall time and the server's CPU."""
    html_ms, ws_ms, cpu_ms = [], [], []
    process = server.ps
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        for _ in range(runs + 2):
            page = Page(server.url, account, conversation_id)
            first_update = asyncio.Event()
            page.sio.on("update", lambda _data, e=first_update: e.set())
            cpu0 = sum(process.cpu_times()[:2])
            t0 = time.perf_counter()
            response = await http.get(f"/chat/{conversation_id}", headers=account.headers)
            t1 = time.perf_counter()
            response.raise_for_status()
            page.open_from_html(response.text)
            await page.connect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(first_update.wait(), 10)
            t2 = time.perf_counter()
            cpu1 = sum(process.cpu_times()[:2])
            await page.close()
            html_ms.append((t1 - t0) * 1000)
            ws_ms.append((t2 - t1) * 1000)
            cpu_ms.append((cpu1 - cpu0) * 1000)
            await asyncio.sleep(0.3)
    skip = slice(2, None)  # two warm-up opens
    return {
        "html_ms": median(html_ms[skip]),
        "socket_to_first_update_ms": median(ws_ms[skip]),
        "total_ms": median([a + b for a, b in zip(html_ms[skip], ws_ms[skip], strict=True)]),
        "server_cpu_ms": median(cpu_ms[skip]),
    }


async def rss_growth(browser: Browser, server: ChatServer, account: Account, conversation_id: str) -> dict[str, float]:
    context = await context_for(browser, server, account)
    url = f"{server.url}/chat/{conversation_id}"
    try:
        for _ in range(5):
            await open_once(context, url, "__lastVisible")
        await asyncio.sleep(5)  # closed pages' clients are deleted after the reconnect timeout
        before = server.ps.memory_info().rss
        page = await context.new_page()
        await page.goto(url)
        await page.wait_for_function("window.__lastVisible !== undefined", timeout=60_000)
        await asyncio.sleep(1)
        open_ = server.ps.memory_info().rss
        await page.close()
        return {"rss_before_mb": round(before / 2**20, 1), "rss_growth_open_mb": round((open_ - before) / 2**20, 1)}
    finally:
        await context.close()


async def home(browser: Browser, server: ChatServer, account: Account, runs: int) -> dict[str, float]:
    context = await context_for(browser, server, account)
    try:
        await open_once(context, f"{server.url}/", "__rowVisible")
        visible = [(await open_once(context, f"{server.url}/", "__rowVisible"))[0] for _ in range(runs)]
    finally:
        await context.close()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        html = []
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            (await http.get("/", headers=account.headers)).raise_for_status()
            html.append((time.perf_counter() - t0) * 1000)
    return {"first_row_visible_ms": median(visible), "html_ms": median(html[1:])}


async def run(server: ChatServer, sizes: list[int], runs: int, conversations: list[int]) -> dict[str, Any]:
    reader, *owners = await create_accounts(server.url, 1 + len(conversations), prefix="long")
    reader_id = await me(server, reader)
    ids: dict[int, str] = {}
    for size in sizes:
        t0 = time.perf_counter()
        ids[size], _ = seed_database(
            server, lambda c, n=size: seed_conversation(c, reader_id, n, title=f"{n} messages")
        )
        print(f"seeded {size} messages in {time.perf_counter() - t0:.1f} s", flush=True)
    for owner, count in zip(owners, conversations, strict=True):
        owner_id = await me(server, owner)
        seed_database(server, lambda c, o=owner_id, n=count: seed_conversations(c, o, n))
    result: dict[str, Any] = {"runs": runs}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = await context_for(browser, server, reader)
            rows = []
            for size in sizes:
                quiet = await asyncio.to_thread(wait_quiet)
                cold, warm = await open_conversation(context, server, ids[size], size, runs)
                rows.append(
                    {
                        "messages": size,
                        "cold_ms": round(cold, 1),
                        "open_ms": median(warm),
                        "min_ms": round(min(warm), 1),
                        "max_ms": round(max(warm), 1),
                        "quiet_before_percent": quiet,
                    }
                )
                print(rows[-1], flush=True)
            result["open"] = rows
            scroll_size = max(s for s in sizes if s <= 10_000)
            result["scroll_up"] = {
                "messages": scroll_size,
                "load_ms": [round(v, 1) for v in await scroll_up(context, server, ids[scroll_size], runs * 2)],
            }
            result["scroll_up"]["median_ms"] = median(result["scroll_up"]["load_ms"])
            print(result["scroll_up"], flush=True)
            await context.close()
            result["server_open"] = {
                str(size): await server_open(server, reader, ids[size], 20) for size in (min(sizes), scroll_size)
            }
            print(result["server_open"], flush=True)
            result["rss"] = await rss_growth(browser, server, reader, ids[scroll_size])
            print(result["rss"], flush=True)
            result["home"] = {
                str(count): await home(browser, server, owner, runs)
                for owner, count in zip(owners, conversations, strict=True)
            }
            print(result["home"], flush=True)
        finally:
            await browser.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 2000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--conversations", type=int, nargs="+", default=[10, 10_000])
    parser.add_argument("--name", default="long_chat")
    args = parser.parse_args()
    with environment(args.name) as (_provider, server):
        result = asyncio.run(run(server, args.sizes, args.runs, args.conversations))
    path = save(args.name, result)
    print(markdown_table(result["open"], ["messages", "cold_ms", "open_ms", "min_ms", "max_ms"]))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
