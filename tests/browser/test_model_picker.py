"""In Chromium, the model picker (issue 29): friendly names with a second line and the raw id on hover; a provider
that is down stays listed, greyed, saying why, and cannot be chosen; the chosen model reads whole on a phone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Page, expect

from testing.fakes.server import ClosedPort, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_ui import PHONE, serious_violations

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def picker_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    """Ollama (the fake) answers; the OpenAI-compatible server it is configured with is not there."""
    port = ClosedPort()
    yield from module_app(
        tmp_path_factory, ollama_server[1].url, "picker", OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1"
    )
    port.release()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_a_provider_that_is_down_is_greyed_with_its_reason(scheme: str, page: Page, picker_app: LiveApp) -> None:
    await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    await create_account_and_sign_in(page, picker_app, f"picker-{scheme}")
    picker = page.get_by_role("combobox", name="Model")
    await expect(page.locator(".chatui-model-hover")).to_have_attribute("title", "ollama:llama3.2:3b")
    await picker.click()
    model = page.get_by_role("option", name="llama3.2:3b")
    await expect(model).to_contain_text("3.2B parameters")
    await expect(model).to_have_attribute("title", "ollama:llama3.2:3b")
    down = page.get_by_role("option", name="cannot reach OpenAI-compatible server")
    await expect(down).to_have_attribute("aria-disabled", "true")
    await expect(page.get_by_text("OpenAI (unavailable)")).to_be_visible()
    found = await serious_violations(page)
    # Quasar's own: QSelect's menu is a listbox around its virtual scroller's focusable div (any QSelect, open)
    quasar = [f for f in found if f.startswith("aria-required-children") and "_lb --" in f and "div[tabindex]" in f]
    assert len(quasar) <= 1 and found == quasar, found  # contrast and names: the options themselves pass
    await down.click(force=True)  # a disabled option: nothing is chosen
    await expect(page.locator(".chatui-model-hover")).to_have_attribute("title", "ollama:llama3.2:3b")

    await page.keyboard.press("Escape")
    await page.set_viewport_size(PHONE)
    box = await page.locator(".chatui-model-select .q-field__native").bounding_box()
    shown = page.locator(".chatui-model-select .q-field__native > span")
    await expect(shown).to_have_text("llama3.2:3b")
    width = await shown.evaluate("span => [span.scrollWidth, span.clientWidth]")
    assert box is not None and width[0] <= width[1], width  # the name is not cut on a phone
