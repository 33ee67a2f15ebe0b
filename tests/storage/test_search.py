"""Full-text search on SQLite (FTS5) and PostgreSQL (tsvector): ranking, prefixes, syntax characters, ownership,
replies indexed when they end, deleted conversations gone, and the migration indexing what was there before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, column, insert, table, text

from storage import (
    AccountRepository,
    ConversationRepository,
    Database,
    MessageStatus,
    SearchRepository,
    mark_interrupted,
)
from storage.migrate import alembic_config
from storage.models import UTCDateTime, utcnow
from storage.search import parse_query
from storage.snippets import Matcher

SEARCH_REVISION = "0005"
MODEL = "ollama:m"


async def exchange(
    chats: ConversationRepository, user_id: str, conversation_id: str, question: str, answer: str
) -> str:
    """A user message and its finished reply; returns the reply's id."""
    _, reply_id = await chats.start_exchange(user_id, conversation_id, question, MODEL, question[:50])
    await chats.finish_message(reply_id, content=answer, status=MessageStatus.DONE, completion_tokens=1)
    return reply_id


@pytest.fixture
async def world(any_db: Database):
    accounts = AccountRepository(any_db)
    alice = await accounts.create_user("alice", "hash")
    bob = await accounts.create_user("bob", "hash")
    return ConversationRepository(any_db), SearchRepository(any_db), alice.id, bob.id


def matched(hit) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.snippet[start:end] for start, end in hit.highlights]


async def test_results_are_ranked_and_snippets_mark_the_matches(world):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL, "Garden")
    once = await exchange(
        chats, alice, conversation.id, "Tell me about plants", "Tomatoes grow well in sun, with water and patience."
    )
    thrice = await exchange(chats, alice, conversation.id, "Tomatoes?", "Tomatoes, tomatoes, tomatoes.")
    hits = await search.search(alice, "tomatoes ", limit=10)
    assert (hits[0].message_id, hits[-1].message_id) == (thrice, once)  # 3 times in 4 words first; 1 in 9 last
    assert hits[0].role == "assistant" and hits[0].conversation_title == "Garden"
    assert matched(hits[0]) == ["Tomatoes", "tomatoes", "tomatoes"]
    assert "\ue000" not in hits[0].snippet and "\ue001" not in hits[0].snippet


async def test_the_last_word_matches_as_a_prefix_while_typing(world):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL)
    reply = await exchange(chats, alice, conversation.id, "physics", "Quantum entanglement is strange.")
    assert [h.message_id for h in await search.search(alice, "quantum entang", limit=10)] == [reply]
    assert matched((await search.search(alice, "entang", limit=10))[0]) == ["entanglement"]
    assert await search.search(alice, "entang ", limit=10) == []  # a finished word is a whole word
    assert await search.search(alice, "strange quan", limit=10) != []


async def test_phrases_match_words_in_order(world):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL)
    in_order = await exchange(chats, alice, conversation.id, "q1", "the red fox sleeps")
    await exchange(chats, alice, conversation.id, "q2", "a fox that is red")
    assert [h.message_id for h in await search.search(alice, '"red fox"', limit=10)] == [in_order]
    assert len(await search.search(alice, "red fox ", limit=10)) == 2


SYNTAX = [
    '"',
    '""',
    "*",
    "-",
    "(",
    ")",
    "NEAR",
    "NEAR(",
    "NEAR(a b, 2)",
    "a OR b",
    "NOT x",
    "-minus",
    "col:umn",
    "^start",
    "a AND",
    "'",
    "!",
    "&",
    "|",
    "<->",
    ":*",
    "\\",
    "a\x00b",
    '"unclosed phrase',
    "x" * 300,
    " ".join(["w"] * 40),
    "émoji 🎉",
]


async def test_query_syntax_characters_are_text_and_never_fail(world):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL)
    await exchange(chats, alice, conversation.id, "Use NEAR(a b) or -minus, col:umn and ^start", "ok")
    for query in SYNTAX:
        for typed in (query, query + " "):  # also as a finished word (no prefix)
            assert isinstance(await search.search(alice, typed, limit=10), list)  # never raises


async def test_operators_typed_by_the_user_are_searched_as_words(world):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL, "Signs")
    await exchange(chats, alice, conversation.id, "Use NEAR and minus signs", "ok")
    assert len(await search.search(alice, "-minus ", limit=10)) == 1  # not "without minus"
    assert len(await search.search(alice, "NEAR(", limit=10)) == 1
    assert await search.search(alice, "minus OR nothinglikethis ", limit=10) == []  # OR is a word, ANDed


async def test_only_the_users_own_messages_and_titles_are_found(world):
    chats, search, alice, bob = world
    conversation = await chats.create_conversation(alice, MODEL, "Alice's secret plans")
    await exchange(chats, alice, conversation.id, "my secret password hint", "noted")
    assert await search.search(bob, "secret", limit=10) == []
    assert len(await search.search(alice, "secret", limit=10)) == 2  # the message and the title


async def test_a_title_match_is_a_hit_without_a_message(world):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL, "Holiday in Lisbon")
    [hit] = await search.search(alice, "lisbon", limit=10)
    assert (hit.conversation_id, hit.message_id, hit.role) == (conversation.id, None, None)
    assert matched(hit) == ["Lisbon"]
    await chats.update_conversation(alice, conversation.id, title="Holiday in Porto")
    assert await search.search(alice, "lisbon", limit=10) == []
    assert len(await search.search(alice, "porto", limit=10)) == 1


async def test_a_streaming_reply_is_indexed_when_it_ends_not_at_checkpoints(world):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL, "zoo")
    _, reply = await chats.start_exchange(alice, conversation.id, "animals?", MODEL, "animals?")
    await chats.checkpoint({reply: "The zebra"})
    assert await search.search(alice, "zebra", limit=10) == []
    await chats.checkpoint({reply: "The zebra and the okapi"})
    assert await search.search(alice, "okapi", limit=10) == []
    await chats.finish_message(
        reply, content="The zebra and the okapi.", status=MessageStatus.DONE, completion_tokens=5
    )
    [hit] = await search.search(alice, "okapi", limit=10)
    assert hit.message_id == reply and matched(hit) == ["okapi"]
    assert len(await search.search(alice, "zebra", limit=10)) == 1


async def test_a_reply_cut_off_by_a_crash_is_indexed_at_the_next_start(world, any_db: Database):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL)
    _, reply = await chats.start_exchange(alice, conversation.id, "q", MODEL, "q")
    await chats.checkpoint({reply: "half a platypus"})
    any_db.prepare(mark_interrupted)
    assert [h.message_id for h in await search.search(alice, "platypus", limit=10)] == [reply]


async def test_deleted_conversations_vanish_from_results(world, any_db: Database):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL, "Walrus facts")
    await exchange(chats, alice, conversation.id, "walrus?", "A walrus has tusks.")
    assert len(await search.search(alice, "walrus", limit=10)) == 3
    assert await chats.delete_conversation(alice, conversation.id)
    assert await search.search(alice, "walrus", limit=10) == []
    if any_db.is_sqlite:  # the external-content index agrees with its tables
        with any_db.engine.begin() as connection:
            connection.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')"))
            connection.execute(text("INSERT INTO conversations_fts(conversations_fts) VALUES ('integrity-check')"))


async def test_pages_follow_each_other_without_gaps_or_repeats(world):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL)
    for i in range(7):
        await exchange(chats, alice, conversation.id, f"narwhal question {i}", "answer")
    first = await search.search(alice, "narwhal", limit=3)
    second = await search.search(alice, "narwhal", limit=3, offset=3)
    third = await search.search(alice, "narwhal", limit=3, offset=6)
    ids = [h.message_id for h in first + second + third]
    assert len(ids) == 8 and len(set(ids)) == 8  # seven messages and the title


async def test_the_migration_indexes_messages_written_before_it(tmp_path: Path, any_db: Database):
    """A database at the revision before search, with data, is searchable after the upgrade."""
    with any_db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), f"{SEARCH_REVISION}-1")
        _write_before_search(connection)  # with that revision's columns: today's repositories expect newer ones
    any_db.prepare(mark_interrupted)  # upgrades to the newest, then the cut-off reply becomes `interrupted`
    hits = await SearchRepository(any_db).search("alice", "otters ", limit=10)
    assert {h.message_id for h in hits} == {
        "reply",
        "streaming",
        None,
        *[h.message_id for h in hits if h.role == "user"],
    }
    assert len(hits) == 5  # two questions, the reply, the interrupted reply, the title


def _write_before_search(connection: Connection) -> None:
    """Alice's conversation as the schema before search stored it: one finished exchange, one reply streaming."""
    now = utcnow()
    users = table(
        "users",
        column("id"),
        column("username"),
        column("password_hash"),
        column("is_admin"),
        column("is_disabled"),
        column("created_at", UTCDateTime()),
    )
    conversations = table(
        "conversations",
        column("id"),
        column("user_id"),
        column("title"),
        column("model"),
        column("created_at", UTCDateTime()),
        column("updated_at", UTCDateTime()),
    )
    messages = table(
        "messages",
        column("id"),
        column("conversation_id"),
        column("role"),
        column("content"),
        column("status"),
        column("model"),
        column("created_at", UTCDateTime()),
    )
    connection.execute(
        insert(users).values(
            id="alice", username="alice", password_hash="hash", is_admin=True, is_disabled=False, created_at=now
        )
    )
    connection.execute(
        insert(conversations).values(
            id="old", user_id="alice", title="Old chat about otters", model=MODEL, created_at=now, updated_at=now
        )
    )
    rows = [
        ("q1", "user", "otters?", "done", None),
        ("reply", "assistant", "Otters hold hands while sleeping.", "done", MODEL),
        ("q2", "user", "more otters", "done", None),
        ("streaming", "assistant", "Otters also", "streaming", MODEL),
    ]
    for index, (message_id, role, content, status, model) in enumerate(rows):
        connection.execute(
            insert(messages).values(
                id=message_id,
                conversation_id="old",
                role=role,
                content=content,
                status=status,
                model=model,
                created_at=now + timedelta(seconds=index),
            )
        )


def test_query_parsing():
    assert [(t.text, t.prefix) for t in parse_query('big "red fox" ca')] == [
        ("big", False),
        ("red fox", False),
        ("ca", True),
    ]
    assert [t.prefix for t in parse_query('"red fox"')] == [False]
    assert [t.prefix for t in parse_query('"red fo')] == [True]
    assert parse_query("* ( - \" '") == []


def test_snippets_show_the_words_around_the_first_match_with_its_ranges():
    matcher = Matcher([("café", False), ("ent", True)])
    text = " ".join(f"w{i}" for i in range(30)) + " Cafe\nentanglement " + " ".join(f"v{i}" for i in range(30))
    snippet, ranges = matcher.snippet(text)
    assert snippet.startswith("…w26 w27 w28 w29 Cafe entanglement v0") and snippet.endswith("v9…")  # 16 words
    assert [snippet[s:e] for s, e in ranges] == ["Cafe", "entanglement"]
    assert matcher.snippet("Short CAFÉ, cafétéria") == ("Short CAFÉ, cafétéria", [(6, 10)])
    assert matcher.snippet("no match here") == ("no match here", [])
    assert matcher.snippet("x " * 40 + "éntente")[0].startswith("…x x x x éntente")  # only an accented spelling


async def test_a_very_common_word_is_ranked_among_the_newest_matches(world, monkeypatch: pytest.MonkeyPatch):
    """Scoring every message that holds a common word would cost as much as the account is large."""
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL, "t")
    await exchange(chats, alice, conversation.id, "walrus walrus walrus", "ok")  # the best match, but the oldest
    newest = []
    for i in range(4):
        _, reply = await chats.start_exchange(
            alice, conversation.id, f"a walrus among other words number {i}", MODEL, "t"
        )
        await chats.finish_message(reply, content="ok", status=MessageStatus.DONE, completion_tokens=1)
        newest.append(reply)
    assert (await search.search(alice, "walrus ", limit=10))[0].snippet == "walrus walrus walrus"
    monkeypatch.setattr("storage.search.RANKED_CANDIDATES", 3)
    monkeypatch.setattr("storage.search.PG_RANKED_CANDIDATES", 3)
    capped = await search.search(alice, "walrus ", limit=3)
    assert len(capped) == 3 and "walrus walrus walrus" not in {h.snippet for h in capped}


async def test_the_index_is_repaired_after_a_migration_rebuilds_the_messages_table(db: Database):
    """SQLite drops a table's triggers with the table (Alembic's batch "move and copy"): the next start repairs."""
    chats, search = ConversationRepository(db), SearchRepository(db)
    alice = (await AccountRepository(db).create_user("alice", "hash")).id
    conversation = await chats.create_conversation(alice, MODEL, "t")
    await exchange(chats, alice, conversation.id, "before the rebuild: heron", "ok")
    with db.engine.begin() as connection:  # what a batch migration does to `messages`
        connection.execute(text("PRAGMA foreign_keys=OFF"))
        connection.execute(text("CREATE TABLE messages_copy AS SELECT * FROM messages ORDER BY created_at DESC"))
        connection.execute(text("DROP TABLE messages"))
        connection.execute(text("ALTER TABLE messages_copy RENAME TO messages"))
    await exchange(chats, alice, conversation.id, "after the rebuild: egret", "ok")
    db.prepare(mark_interrupted)
    assert len(await search.search(alice, "heron", limit=10)) == 1
    assert len(await search.search(alice, "egret", limit=10)) == 1
    await exchange(chats, alice, conversation.id, "and then: stork", "ok")  # the triggers are back
    assert len(await search.search(alice, "stork", limit=10)) == 1
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')"))


async def test_phrases_are_ranked_by_how_often_they_occur_and_only_in_order(world):
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL, "t")
    once = await exchange(chats, alice, conversation.id, "q1", "a blue whale, and then more words about the sea")
    thrice = await exchange(chats, alice, conversation.id, "q2", "blue whale blue whale blue whale")
    twice = await exchange(chats, alice, conversation.id, "q3", "blue whale and blue whale, and other words here")
    await exchange(chats, alice, conversation.id, "q4", "whale blue, a whale that is blue: blue and whale")
    hits = await search.search(alice, '"blue whale"', limit=10)
    assert [h.message_id for h in hits] == [thrice, twice, once]
    assert matched(hits[1])[:2] == ["blue", "whale"]


async def test_a_phrase_of_words_found_together_often_is_looked_for_among_the_newest(
    world, monkeypatch: pytest.MonkeyPatch
):
    """Checking the words' order costs a read per message holding them: only the newest of those are checked."""
    chats, search, alice, _ = world
    conversation = await chats.create_conversation(alice, MODEL, "t")
    oldest = await exchange(chats, alice, conversation.id, "q", "the grey heron stands")
    for i in range(12):
        await exchange(chats, alice, conversation.id, f"q{i}", f"a heron, grey and still, number {i}")
    newest = await exchange(chats, alice, conversation.id, "q", "a grey heron flies")
    assert {h.message_id for h in await search.search(alice, '"grey heron"', limit=10)} == {oldest, newest}
    monkeypatch.setattr("storage.search.PHRASE_WINDOW", 4)
    monkeypatch.setattr("storage.search.PG_PHRASE_SAMPLE", 4)
    monkeypatch.setattr("storage.search.PG_PHRASE_CHECKS", 4)
    assert [h.message_id for h in await search.search(alice, '"grey heron"', limit=10)] == [newest]
    assert len(await search.search(alice, "grey heron ", limit=20)) == 14  # the words alone: not this window
