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


def _exit_through_leave(tmp_path, body: str):
    """Run ``body`` in a new interpreter, then ``leave`` with what it set as ``code``."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "run.py"
    script.write_text(
        "import atexit, sys, threading, time\n"
        "from cli.startup import leave\n"
        "code = 0\n" + textwrap.dedent(body) + "\nleave(code)\n"
    )
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd="."
    )


def test_leave_keeps_the_exit_status_output_and_atexit_handlers(tmp_path):
    done = _exit_through_leave(
        tmp_path,
        f"""
        atexit.register(lambda: open({str(tmp_path / "handler")!r}, "w").write("ran"))
        sys.stdout.write("partial line, no newline")  # still in the buffer at exit
        code = 3
        """,
    )
    assert done.returncode == 3
    assert done.stdout == "partial line, no newline"
    assert (tmp_path / "handler").read_text() == "ran"


def test_leave_with_a_message_prints_it_and_exits_1(tmp_path):
    done = _exit_through_leave(tmp_path, 'code = "error: the reason"')
    assert (done.returncode, done.stderr.strip()) == (1, "error: the reason")


def test_leave_waits_for_a_thread_that_is_still_writing(tmp_path):
    """A command that left a (non-daemon) thread working exits the ordinary way, which
    waits for it: its file is complete."""
    target = tmp_path / "written"
    done = _exit_through_leave(
        tmp_path,
        f"""
        def write():
            time.sleep(0.3)
            open({str(target)!r}, "w").write("all of it")
        threading.Thread(target=write).start()
        code = 0
        """,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_text() == "all of it"


def test_leave_with_stdout_closed_keeps_the_status(tmp_path):
    """`assistant config >&-`: Python starts with sys.stdout None; leaving must not raise."""
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text("from cli.startup import leave\nleave(4)\n")
    done = subprocess.run(
        f"{sys.executable} {script} >&-", shell=True, capture_output=False, timeout=60, cwd="."
    )
    assert done.returncode == 4
