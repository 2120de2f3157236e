"""The collector is off while a command starts and back on once a long-running command
settles, with what start-up loaded frozen (cli/startup.py)."""

import gc

from cli.startup import settled, starting


def test_settled_resumes_collection_and_freezes_what_startup_made():
    frozen = gc.get_freeze_count()
    try:
        starting()
        assert not gc.isenabled()
        kept = [object() for _ in range(1000)]  # what start-up loads
        settled()
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen + len(kept)
    finally:
        gc.enable()
        gc.unfreeze()


def test_settled_is_nothing_when_the_collector_was_never_stopped():
    gc.enable()
    before = gc.get_freeze_count()
    settled()
    assert gc.isenabled() and gc.get_freeze_count() == before
