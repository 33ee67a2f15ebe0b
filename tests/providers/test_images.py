"""Messages made of parts on each wire, through the real clients to the wire-exact fakes: images beside the text as
Ollama's `images`, in OpenAI's content parts as data URLs, in Anthropic's content blocks as base64 sources; a message
of text alone is sent as before (a string); and whether an Ollama model sees images, from its `/api/show`."""

from __future__ import annotations

import base64

import pytest

from providers import ChatMessage, ImagePart, TextPart
from providers.anthropic import AnthropicProvider, to_anthropic
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAIProvider
from testing import attachments
from testing.fakes.server import free_port
from tests.providers.helpers import collect

PNG = attachments.png(32, 24)
JPEG = attachments.jpeg(40, 30)
ASKED = [
    ChatMessage("user", "Hello"),
    ChatMessage("assistant", "Hi! What can I do?"),
    ChatMessage("user", [TextPart("Compare these."), ImagePart("image/png", PNG), ImagePart("image/jpeg", JPEG)]),
]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_ollama_sends_images_as_base64_beside_the_text(fake_ollama):
    fake_ollama.models = ["llava:7b"]
    fake_ollama.vision_models = {"llava:7b"}
    provider = OllamaProvider(fake_ollama.url)
    try:
        texts, _ = await collect(provider.stream(ASKED, "llava:7b"))
    finally:
        await provider.aclose()
    assert texts == ["8", "."]
    assert fake_ollama.requests[-1]["messages"] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi! What can I do?"},
        {"role": "user", "content": "Compare these.", "images": [b64(PNG), b64(JPEG)]},
    ]
    assert [(i.media_type, i.width) for i in fake_ollama.images[-1]] == [("image/png", 32), ("image/jpeg", 40)]


async def test_openai_sends_images_as_data_url_parts_in_order(fake_openai):
    provider = OpenAIProvider("sk-test", f"{fake_openai.url}/v1")
    try:
        texts, _ = await collect(provider.stream(ASKED, "gpt-4o-mini"))
    finally:
        await provider.aclose()
    assert texts == ["8", "."]
    assert fake_openai.requests[-1]["messages"] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi! What can I do?"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare these."},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(PNG)}"}},
                {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{b64(JPEG)}"}},
            ],
        },
    ]
    assert [(i.media_type, i.data) for i in fake_openai.images[-1]] == [("image/png", PNG), ("image/jpeg", JPEG)]


async def test_anthropic_sends_images_as_base64_blocks_in_order(fake_anthropic):
    provider = AnthropicProvider("sk-ant-test", fake_anthropic.url)
    try:
        texts, _ = await collect(provider.stream(ASKED, "claude-haiku-4-5"))
    finally:
        await provider.aclose()
    assert texts == ["8", "."]
    assert fake_anthropic.requests[-1]["messages"] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi! What can I do?"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare these."},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG)}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": b64(JPEG)}},
            ],
        },
    ]
    assert [(i.media_type, i.data) for i in fake_anthropic.images[-1]] == [("image/png", PNG), ("image/jpeg", JPEG)]


def test_anthropic_turns_of_one_role_merge_with_their_images_and_drop_empty_text():
    image = ImagePart("image/png", PNG)
    system, turns = to_anthropic(
        [
            ChatMessage("user", [TextPart("One."), image]),
            ChatMessage("user", [TextPart("  "), TextPart("Two.")]),
            ChatMessage("assistant", "Yes."),
        ]
    )
    assert system == ""
    assert turns == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "One."},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG)}},
                {"type": "text", "text": "Two."},
            ],
        },
        {"role": "assistant", "content": "Yes."},
    ]


@pytest.mark.parametrize("fake_name", ["fake_openai", "fake_anthropic", "fake_ollama"])
async def test_an_image_the_api_would_refuse_is_refused_by_the_fake_too(request, fake_name):
    """The fakes check images as the APIs do (so a test that passes sent what the API takes)."""
    fake = request.getfixturevalue(fake_name)
    lying = [ChatMessage("user", [TextPart("What is it?"), ImagePart("image/png", JPEG)])]
    if fake_name == "fake_ollama":
        lying = [ChatMessage("user", [ImagePart("image/png", b"not an image at all")])]
        fake.vision_models = set(fake.models)
        provider = OllamaProvider(fake.url)
        model = fake.models[0]
    elif fake_name == "fake_openai":
        provider, model = OpenAIProvider("sk-test", f"{fake.url}/v1"), "gpt-4o-mini"
    else:
        provider, model = AnthropicProvider("sk-ant-test", fake.url), "claude-haiku-4-5"
    try:
        with pytest.raises(Exception, match=r"(?i)image"):
            await collect(provider.stream(lying, model))
    finally:
        await provider.aclose()


async def test_ollama_says_which_models_see_images_from_show_and_asks_once_a_minute(fake_ollama):
    fake_ollama.models = ["llava:7b", "llama3.2:3b"]
    fake_ollama.vision_models = {"llava:7b"}
    provider = OllamaProvider(fake_ollama.url)
    try:
        assert await provider.sees_images("llava:7b") is True
        assert await provider.sees_images("llama3.2:3b") is False
        assert await provider.sees_images("llama3.2:3b") is False
        assert fake_ollama.shown == ["llava:7b", "llama3.2:3b"]
        assert await provider.sees_images("missing:1b") is True  # unknown: the request will say what is wrong
    finally:
        await provider.aclose()


async def test_an_ollama_that_is_down_is_not_taken_to_refuse_images():
    provider = OllamaProvider(f"http://127.0.0.1:{free_port()}", connect_timeout=1)
    try:
        assert await provider.sees_images("llava:7b") is True
    finally:
        await provider.aclose()


def test_a_message_of_text_is_one_text_part_and_says_its_text():
    message = ChatMessage("user", [TextPart("a"), ImagePart("image/png", PNG), TextPart(""), TextPart("b")])
    assert ChatMessage("user", "hi") == ChatMessage("user", [TextPart("hi")])
    assert message.content == "a\n\nb"
    assert message.images == [ImagePart("image/png", PNG)]
    assert "bytes" in repr(message.images[0]) and len(repr(message)) < 200
