"""Time added before the first token by a message's files (issue 23): a 5 MB photo (fitted and encoded for the
provider) and a 100-page PDF (its text read in a process of its own), on the first send and on a regenerate (which
reads and fits nothing again), against the same message without files.

    python -m bench.attachments_prompt [--runs 5] [--provider ollama|openai|anthropic]

The app's own services in this process (`build_services`, SQLite in a temporary folder), the provider's real client,
and the tests' wire-exact fake on loopback in a thread, told not to decode the images it gets (the figure is the
server's work, not the fake's). The clock runs from `ConversationService.send` (or `regenerate`) to the first token
the reply publishes. Every first send uses new bytes (a new photo, a new PDF), so nothing is cached across runs.
Also reported: the preparation alone (`Attachments.prepare`, cold), which is what the files add.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench._measure import wait_quiet
from bench._report import ms, save
from chatui.bootstrap import Services, build_services
from chatui.config import Settings
from chatui.engine.generation import Generation
from chatui.engine.prompt import Asked
from testing import attachments
from testing.fakes.anthropic import FakeAnthropic, anthropic_app
from testing.fakes.ollama import FakeOllama, ollama_app
from testing.fakes.openai import FakeOpenAI, openai_app
from testing.fakes.server import Script, ThreadedServer

MODELS = {"ollama": "ollama:llava:7b", "openai": "openai:gpt-4o-mini", "anthropic": "anthropic:claude-haiku-4-5"}
PAGE_LINE = "Page {n}, line {line}: the quarterly figures of the northern region rose, as the table below shows."
PHOTO_BYTES = 5 * 1024 * 1024


def photo(seed: int) -> bytes:
    """A 12-megapixel camera-like JPEG of about 5 MB (4000 × 3000, soft noise over a gradient), new bytes per seed."""
    from PIL import Image, ImageChops, ImageFilter

    gradient = Image.linear_gradient("L").resize((4000, 3000))
    noise = Image.effect_noise((4000, 3000), 40 + seed % 7).filter(ImageFilter.GaussianBlur(0.6))
    image = Image.merge("RGB", (gradient, ImageChops.add(gradient, noise, 2.0), noise))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def report(seed: int) -> bytes:
    """A 100-page PDF of 40 lines a page (~380,000 characters: more than one message sends, as real reports are)."""
    return attachments.pdf(100, f"{PAGE_LINE} ({seed})", lines=40)


def fake_for(provider: str) -> tuple[Any, Any]:
    if provider == "ollama":
        ollama = FakeOllama()
        ollama.models, ollama.vision_models, ollama.check_images = ["llava:7b"], {"llava:7b"}, False
        return ollama, ollama_app(ollama)
    if provider == "openai":
        openai = FakeOpenAI()
        return openai, openai_app(openai)
    anthropic = FakeAnthropic()
    return anthropic, anthropic_app(anthropic)


def settings_for(provider: str, url: str, data_dir: Path) -> Settings:
    by_provider: dict[str, dict[str, Any]] = {
        "ollama": {"ollama_base_url": url},
        "openai": {"openai_base_url": f"{url}/v1", "openai_api_key": "sk-bench"},
        "anthropic": {"anthropic_base_url": url, "anthropic_api_key": "sk-ant-bench"},
    }
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        provider_retries=0,
        messages_per_minute=100_000,
        conversations_per_minute=100_000,
        ai_titles=False,
        local_model="off",
        **by_provider[provider],
    )


async def upload(services: Services, user_id: str, name: str, content: bytes) -> str:
    request = httpx.Request("POST", "http://127.0.0.1/", files={"file": (name, content, "application/octet-stream")})

    async def body() -> AsyncIterator[bytes]:
        yield request.read()

    return (await services.files.upload(user_id, request.headers["content-type"], body())).id


async def first_token(start: Callable[[], Awaitable[Generation]]) -> float:
    """Seconds from `start()` to the reply's first token; the reply is then read to its end."""
    began = time.perf_counter()
    generation = await start()
    first: float | None = None
    async for batch in generation.follow():
        if batch and first is None:
            first = time.perf_counter() - began
    assert generation.status == "done", generation.error
    return first or float("nan")


async def measure(provider: str, runs: int) -> dict[str, Any]:
    fake, app = fake_for(provider)
    fake.default = Script(tokens=["Seen", "."])
    server = ThreadedServer(app).start()
    results: dict[str, list[float]] = {
        k: [] for k in ("plain", "photo", "photo_regen", "pdf", "pdf_regen", "fit_photo", "read_pdf")
    }
    with tempfile.TemporaryDirectory() as folder:
        services = build_services(settings_for(provider, server.url, Path(folder) / "data"))
        services.prepare()
        await services.start()
        try:
            user = await services.store.accounts.create_user("bench", "hash")
            chats, model = services.conversations, MODELS[provider]
            for run in range(runs + 1):  # the first round warms imports and connections, and is not counted
                photo_bytes, pdf_bytes = photo(run), report(run)
                photo_id = await upload(services, user.id, f"photo{run}.jpg", photo_bytes)
                pdf_id = await upload(services, user.id, f"report{run}.pdf", pdf_bytes)
                timings: dict[str, float] = {}
                plain = await chats.create(user.id, model)
                timings["plain"] = await first_token(lambda c=plain.id: chats.send(user.id, c, "What is it?"))
                for key, file_id in (("photo", photo_id), ("pdf", pdf_id)):
                    conversation = await chats.create(user.id, model)
                    cid = conversation.id
                    timings[key] = await first_token(
                        lambda c=cid, f=file_id: chats.send(user.id, c, "What is it?", attachments=[f])
                    )
                    timings[f"{key}_regen"] = await first_token(lambda c=cid: chats.regenerate(user.id, c))
                timings.update(await prepared_alone(services, provider, photo_id, pdf_id, user.id, run))
                if run:
                    for key, value in timings.items():
                        results[key].append(value)
                print(f"run {run}: " + ", ".join(f"{k} {ms(v):.0f} ms" for k, v in timings.items()), flush=True)
            sizes = {"photo_mb": round(len(photo_bytes) / 1024**2, 2), "pdf_mb": round(len(pdf_bytes) / 1024**2, 2)}
        finally:
            await services.stop()
            server.stop()
    return {
        "provider": provider,
        "runs": runs,
        **sizes,
        "median_ms": {k: ms(statistics.median(v)) for k, v in results.items()},
        "all_ms": {k: [ms(x) for x in v] for k, v in results.items()},
    }


async def prepared_alone(
    services: Services, provider: str, photo_id: str, pdf_id: str, user_id: str, run: int
) -> dict[str, float]:
    """The preparation alone, cold: fitting the photo, reading the PDF's text (new bytes of the same kinds)."""
    engine = services.engine
    limits = engine.models.resolve(MODELS[provider])[0].image_limits
    timings = {}
    cold = (("fit_photo", "cold.jpg", photo(1000 + run)), ("read_pdf", "cold.pdf", report(1000 + run)))
    for key, name, content in cold:
        file_id = await upload(services, user_id, name, content)
        (stored,) = await services.store.files.owned(user_id, [file_id])
        began = time.perf_counter()
        await engine.attachments.prepare([Asked("user", "?", (stored,))], limits, sees_images=True)
        timings[key] = time.perf_counter() - began
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--provider", choices=sorted(MODELS), default="ollama")
    args = parser.parse_args()
    quiet = wait_quiet(limit=20)
    result = asyncio.run(measure(args.provider, args.runs))
    result["cpu_in_use_before_percent"] = quiet
    result["loadavg"] = os.getloadavg()
    path = save(f"attachments-prompt-{args.provider}", result)
    print(result["median_ms"])
    print(f"saved {path}")


if __name__ == "__main__":
    main()
