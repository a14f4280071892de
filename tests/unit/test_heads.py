"""The conflict rules of core.heads, without a database."""

from __future__ import annotations

import contextvars

from stateward.core import heads

KEY = ("t", "")


def _fresh() -> contextvars.Context:
    return contextvars.Context()


def test_blind_writer_may_write_anything() -> None:
    """A writer that never read the thread is not validated (conformance-style puts)."""

    def check() -> heads.Expectation:
        return heads.expectation(KEY, parent=None, new="c2")

    assert _fresh().run(check) == heads.ANY_HEAD


def test_reader_of_head_must_extend_it() -> None:
    """After reading head c1, a write built on c1 needs c1 (or itself) as the head."""

    def check() -> heads.Expectation:
        heads.record_read(KEY, requested=None, found="c1")
        return heads.expectation(KEY, parent="c1", new="c2")

    expect = _fresh().run(check)
    assert expect.allows("c1")
    assert expect.allows("c2")  # the same write, retried
    assert not expect.allows("c9")
    assert not expect.allows(None)


def test_new_thread_read_as_empty_rejects_a_concurrent_start() -> None:
    """A writer that saw no head conflicts if another writer started the thread."""

    def check() -> heads.Expectation:
        heads.record_read(KEY, requested=None, found=None)
        return heads.expectation(KEY, parent=None, new="c1")

    expect = _fresh().run(check)
    assert expect.allows(None)
    assert not expect.allows("c0")


def test_fork_from_an_explicit_read_is_time_travel() -> None:
    """Building on a checkpoint read by id is allowed while the head is as last seen."""

    def check() -> heads.Expectation:
        heads.record_read(KEY, requested="c1", found="c1")
        heads.record_read(KEY, requested=None, found="c5")
        return heads.expectation(KEY, parent="c1", new="c6")

    expect = _fresh().run(check)
    assert expect.allows("c5")
    assert not expect.allows("c7")


def test_replay_without_reading_the_head_accepts_any_head() -> None:
    """Replaying an explicitly read checkpoint, head never looked at: accepted."""

    def check() -> heads.Expectation:
        heads.record_read(KEY, requested="c1", found="c1")
        return heads.expectation(KEY, parent="c1", new="c6")

    assert _fresh().run(check) == heads.ANY_HEAD


def test_own_writes_move_the_view() -> None:
    """After writing c2, the writer's next write must build on c2."""

    def check() -> heads.Expectation:
        heads.record_read(KEY, requested=None, found="c1")
        heads.record_write(KEY, "c2")
        return heads.expectation(KEY, parent="c2", new="c3")

    expect = _fresh().run(check)
    assert expect.allows("c2")
    assert not expect.allows("c1")


def test_views_are_shared_with_copied_contexts() -> None:
    """A write in a copy of the run's context (LangGraph's task threads) is seen."""

    def run() -> heads.Expectation:
        heads.record_read(KEY, requested=None, found="c1")
        contextvars.copy_context().run(heads.record_write, KEY, "c2")
        return heads.expectation(KEY, parent="c2", new="c3")

    expect = _fresh().run(run)
    assert expect.allows("c2")
    assert not expect.allows("c1")


def test_memory_is_bounded() -> None:
    """A writer context remembers a bounded number of threads and explicit reads."""

    def fill() -> heads.WriterViews:
        for i in range(heads.MAX_THREADS_PER_WRITER + 50):
            heads.record_read((f"t{i}", ""), requested=None, found="c")
        for i in range(heads.MAX_EXPLICIT_READS + 10):
            heads.record_read(KEY, requested=f"c{i}", found=f"c{i}")
        return heads.current_views()

    views = _fresh().run(fill)
    assert len(views._views) == heads.MAX_THREADS_PER_WRITER
    view = views.get(KEY)
    assert view is not None
    assert len(view.explicit) == heads.MAX_EXPLICIT_READS
