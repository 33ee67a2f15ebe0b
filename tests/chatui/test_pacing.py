"""The update pacer: every bubble at the base rate until the process-wide budget is reached, then shared."""

from __future__ import annotations

from chatui.ui.pacing import UpdatePacer


def test_base_interval_until_the_budget_is_shared() -> None:
    pacer = UpdatePacer(base_seconds=0.1, updates_per_second=500)
    assert pacer.interval() == 0.1
    with pacer.following():
        assert pacer.interval() == 0.1
    pacer.streaming = 50
    assert pacer.interval() == 0.1  # 50 bubbles x 10 updates/s = the budget exactly
    pacer.streaming = 100
    assert pacer.interval() == 0.2  # 100 bubbles share 500 updates/s


def test_a_bubble_stops_counting_when_it_ends_even_by_error() -> None:
    pacer = UpdatePacer(base_seconds=0.1, updates_per_second=10)
    try:
        with pacer.following(), pacer.following():
            assert pacer.streaming == 2
            raise RuntimeError("the page went away")
    except RuntimeError:
        pass
    assert pacer.streaming == 0
