"""The job table: a due job runs once however many processes claim it, a failure is
retried sooner than its schedule, a poke makes it due now, and the server's tick runs
coroutine jobs on its loop."""

import asyncio
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, update
from sqlmodel import Session

from assistant.jobs import RETRY_BASE_SECONDS, Handler, JobRow, Jobs, every
from assistant.store import utcnow


def _due_now(engine, name: str) -> None:
    with Session(engine) as s:
        s.exec(update(JobRow).where(JobRow.name == name).values(next_run_at=utcnow()))
        s.commit()


def test_a_due_job_runs_once_however_many_processes_claim_it(db_url):
    runs: list[str] = []
    lock = threading.Lock()

    def run(name: str) -> None:
        with lock:
            runs.append(name)

    handlers = {"sweep": Handler(run=run, next_after=every(3600))}
    Jobs(create_engine(db_url)).ensure("sweep")
    barrier = threading.Barrier(4)

    def process() -> None:
        jobs = Jobs(create_engine(db_url))  # an engine each, as separate processes have
        barrier.wait()
        jobs.run_due(handlers)

    threads = [threading.Thread(target=process) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert runs == ["sweep"]
    jobs = Jobs(create_engine(db_url))
    assert jobs.run_due(handlers) == []  # not due again for an hour
    [state] = jobs.states()
    assert state.runs == 1 and not state.running and state.next_run_at > utcnow()
    jobs.poke("sweep")  # new data arrived
    assert [o.name for o in jobs.run_due(handlers)] == ["sweep"] and len(runs) == 2


def test_a_failed_run_is_recorded_and_retried_before_its_schedule(db_url):
    engine = create_engine(db_url)
    jobs = Jobs(engine)
    jobs.ensure("ingest")
    attempts = []

    def flaky(name: str) -> str:
        attempts.append(name)
        if len(attempts) == 1:
            raise OSError("EDGAR unreachable")
        return "ok"

    handlers = {"ingest": Handler(run=flaky, next_after=every(86400))}
    [failed] = jobs.run_due(handlers)
    assert failed.error == "OSError: EDGAR unreachable"
    [state] = jobs.states()
    assert state.failures == 1 and state.last_error == "OSError: EDGAR unreachable"
    assert state.next_run_at <= utcnow() + timedelta(seconds=RETRY_BASE_SECONDS + 1)
    _due_now(engine, "ingest")
    [done] = jobs.run_due(handlers)
    assert done.error is None and done.result == "ok"
    [state] = jobs.states()
    assert state.failures == 0 and state.last_error is None
    assert state.next_run_at > utcnow() + timedelta(hours=23)  # back on its schedule


def test_a_lease_that_ran_out_lets_another_process_run_it(db_url):
    engine = create_engine(db_url)
    jobs = Jobs(engine, lease_seconds=3600)
    jobs.ensure("briefing:x")
    assert jobs.claim("briefing:x", lambda now: now)  # a process took it and died
    assert not Jobs(engine).claim("briefing:x", lambda now: now)
    with Session(engine) as s:
        s.exec(update(JobRow).values(claimed_until=utcnow() - timedelta(seconds=1)))
        s.commit()
    assert Jobs(engine).claim("briefing:x", lambda now: now)


def test_unknown_kinds_wait_and_coroutine_jobs_run_on_the_loop(db_url):
    jobs = Jobs(create_engine(db_url))
    jobs.ensure("other:1")
    jobs.ensure("briefing:1")
    seen = []

    async def write(name: str) -> str:
        seen.append(asyncio.get_running_loop())
        return name

    async def main():
        out = await jobs.arun_due({"briefing": Handler(run=write, next_after=every(60))})
        return out, asyncio.get_running_loop()

    out, loop = asyncio.run(main())
    assert [o.result for o in out] == ["briefing:1"] and seen == [loop]
    assert {s.name: s.runs for s in jobs.states()} == {"briefing:1": 1, "other:1": 0}


@pytest.mark.parametrize("seconds", [0.5, 30])
def test_every_is_a_fixed_interval(seconds):
    now = utcnow()
    assert every(seconds)("x", now) == now + timedelta(seconds=seconds)


def test_a_run_stopped_by_a_shutdown_is_given_back(db_url):
    engine = create_engine(db_url)
    jobs = Jobs(engine)
    jobs.ensure("briefing:1")

    async def main() -> None:
        started = asyncio.Event()

        async def slow(name: str) -> None:
            started.set()
            await asyncio.sleep(60)

        task = asyncio.create_task(
            jobs.arun_due({"briefing": Handler(run=slow, next_after=every(3600))})
        )
        await started.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    [state] = jobs.states()
    assert not state.running and state.next_run_at <= utcnow()
    assert Jobs(engine).claim("briefing:1", lambda now: now)  # another process takes it now
