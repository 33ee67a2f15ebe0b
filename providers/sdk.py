"""What the two providers that stream through a vendor SDK (OpenAI, Anthropic) do alike.

Each SDK is heavy to import (Anthropic's ~1 s and 40 MB, OpenAI's 0.3 s), so it is loaded on a provider's first reply,
in a thread, while model listings go out as one plain `GET` through httpx (both APIs list models in one request).
The wire formats and their errors differ and stay in each provider; the client's lifetime, the listing's transport
and the wording of timeouts and unreachable servers are the same, and live here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar

import httpx

from providers.base import Provider
from providers.errors import ProviderError, ProviderTimeout, ProviderUnavailable
from providers.urls import redact_url


class SdkClient(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=SdkClient)


class SdkProvider(Provider, Generic[C]):
    """A provider whose replies go through an SDK client `C`, made on first use; subclasses say how (`_make_client`)."""

    base_url_setting: str
    """The setting that points the provider elsewhere, named when its server cannot be reached."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        connect_timeout: float,
        read_timeout: float,
        list_headers: dict[str, str],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.read_timeout = read_timeout
        self._api_key = api_key or None
        self._connect_timeout = connect_timeout
        self._client: C | None = None
        self._making = asyncio.Lock()
        self._warming: asyncio.Task[C] | None = None
        # The listing sends what the SDK would (the subclass's headers) and follows redirects, as the SDK does.
        self._listing = httpx.AsyncClient(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout), follow_redirects=True
        )
        self._list_headers = list_headers

    async def _sdk(self) -> C:
        """The SDK's client, made on the first reply: the import runs in a thread, so the event loop keeps serving
        meanwhile; concurrent first replies share the one client."""
        if self._client is not None:
            return self._client
        async with self._making:
            if self._client is None:
                self._client = await asyncio.to_thread(self._make_client)
        return self._client

    def warm(self) -> None:
        """Import the SDK and make the client now, in the background (Anthropic's import takes ~1.9 s on a quiet
        machine here, OpenAI's ~0.5 s, BENCHMARKS §14): opening a chat on the provider's model costs what the first
        reply would have waited for, while the person types. A failure is left for that reply to report."""
        if self._client is None and self._warming is None:
            self._warming = asyncio.get_running_loop().create_task(self._sdk())
            self._warming.add_done_callback(lambda task: task.cancelled() or task.exception())

    def _make_client(self) -> C:
        """Import the SDK and make its client (in a worker thread), with no retries: providers/retry.py decides."""
        raise NotImplementedError

    @contextmanager
    def _listing_errors(self, path: str) -> Iterator[None]:
        """A model listing's failures as `ProviderError`s worded as a reply's (`path`, the listing's, names it)."""
        try:
            yield
        except ProviderError:
            raise
        except httpx.TimeoutException as exc:
            raise self._timeout() from exc
        except httpx.TransportError as exc:
            raise self._unreachable() from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProviderError(f"{self.display_name} answered {path} with something that is not a model list") from exc

    def _timeout(self) -> ProviderTimeout:
        return ProviderTimeout(f"{self.display_name} did not answer within {self.read_timeout:g} s")

    def _unreachable(self) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"cannot reach {self.display_name}; check {self.base_url_setting} ({redact_url(self.base_url)})"
        )

    async def aclose(self) -> None:
        await self._listing.aclose()
        if self._client is not None:
            await self._client.close()


def json_or_text(response: httpx.Response) -> object:
    """An error response's body as the SDKs keep it: the decoded JSON, else the stripped text."""
    text = response.text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text
