"""The scheduler: runs every scheduled job once per pass, a pass every SCHEDULER_INTERVAL_S.

A job gets the database, the moment its rules decide as of, the actual time and the
settings (mail needs SMTP_URL, SITE_URL, SECRET_KEY), runs in its own transaction(s)
and returns one line per thing it did. Any number of schedulers may
run at once (in `forecasts serve` processes and `forecasts worker`s): each job is safe to
run concurrently (resolve-due locks the rows it settles), so no lease is needed. A job
that fails does not stop the next one; the loop logs it and goes on to the next pass.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from forecasts import timeutil
from forecasts.db import Database
from forecasts.errors import InvalidInput

log = logging.getLogger("forecasts.scheduler")
ACTOR = "scheduler"


@dataclass(frozen=True)
class Job:
    """A named piece of periodic work: run(db, now, recorded_at, settings) -> lines."""

    name: str
    run: Callable[[Database, datetime, datetime, Mapping[str, Any]], list[str]]


def _resolve_due(db: Database, now: datetime, recorded_at: datetime,
                 settings: Mapping[str, Any]) -> list[str]:
    from forecasts.services import aggregation, resolve_due

    with db.transaction() as session:
        plan = resolve_due.resolve_due(session, now=now, actor=ACTOR, recorded_at=recorded_at,
                                       aggregator=aggregation.configured(settings))
    return ["settled " + resolve_due.line(due) for due in plan.settle]


def _crowd_aggregator(db: Database, now: datetime, recorded_at: datetime,
                      settings: Mapping[str, Any]) -> list[str]:
    """Rescore the crowd when CROWD_AGGREGATOR (or its factor) changed: one small read
    when it did not (checked again under the write lock before the work)."""
    from forecasts.services import aggregation

    agg = aggregation.configured(settings)
    with db.session() as session:
        if not aggregation.differs(session, agg):
            return []
    with db.transaction() as session:
        done = aggregation.follow(session, agg)
    return [f"crowd rescored with {aggregation.label(agg)}"] if done else []


def _notify(db: Database, now: datetime, recorded_at: datetime,
            settings: Mapping[str, Any]) -> list[str]:
    from forecasts.services import notifications

    return notifications.run_due(db, now=now, settings=settings)


def _mail(db: Database, now: datetime, recorded_at: datetime,
          settings: Mapping[str, Any]) -> list[str]:
    from forecasts.services import delivery

    # The clock as the job starts, not as the pass started: mail queued earlier in this
    # pass (by the notifications job) is due at once.
    return delivery.deliver(db, now=timeutil.now(), settings=settings)


# In order: the crowd follows its setting before anything is scored with it, then
# settling, so that its resolutions are notified in the same pass, and the mail last,
# so that it carries what the pass recorded.
JOBS: tuple[Job, ...] = (Job("crowd-aggregator", _crowd_aggregator),
                         Job("resolve-due", _resolve_due), Job("notifications", _notify),
                         Job("mail", _mail))


@dataclass(frozen=True)
class PassResult:
    """What one pass did: the jobs' lines, and (job name, error) of those that failed."""

    lines: list[str]
    failed: list[tuple[str, Exception]]

    def errors(self) -> list[str]:
        """One line per failed job: its name and the first line of its error."""
        return [f"{name}: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}"
                for name, exc in self.failed]


def _settings(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if settings is not None:
        return settings
    from forecasts import config

    return config.load()  # a job that signs links refuses to run without SECRET_KEY


def run_once(db: Database, *, now: datetime | None = None, jobs: tuple[Job, ...] = JOBS,
             settings: Mapping[str, Any] | None = None) -> PassResult:
    """Run each job once, as of `now` (default: the current time; never in the future),
    with `settings` (default: read from the environment)."""
    settings = _settings(settings)
    actual = timeutil.now()
    moment = actual if now is None else now
    if moment > actual:
        raise InvalidInput("cannot run the jobs as of a time in the future", where="--now")
    lines: list[str] = []
    failed: list[tuple[str, Exception]] = []
    for job in jobs:
        try:
            lines.extend(job.run(db, moment, actual, settings))
        except Exception as exc:  # one failing job must not stop the others or the loop
            failed.append((job.name, exc))
    return PassResult(lines, failed)


def run_forever(db: Database, interval_s: float, stop: threading.Event, *,
                report: Callable[[str], None] = log.info,
                jobs: tuple[Job, ...] = JOBS, settings: Mapping[str, Any] | None = None) -> int:
    """Run a pass every `interval_s` seconds until `stop` is set; returns the passes run."""
    settings = _settings(settings)
    passes = 0
    while not stop.is_set():
        try:
            result = run_once(db, jobs=jobs, settings=settings)
            for text in result.lines:
                report(text)
            for name, exc in result.failed:
                log.error("scheduled job %s failed; trying again next pass", name, exc_info=exc)
        except Exception:  # a bug outside the jobs: keep the loop (and the server) alive
            log.exception("scheduler pass failed")
        passes += 1
        stop.wait(interval_s)
    return passes


class Background:
    """A scheduler in a daemon thread, for `forecasts serve`; stop() ends it cleanly."""

    def __init__(self, db: Database, interval_s: float, *,
                 report: Callable[[str], None] = log.info,
                 settings: Mapping[str, Any] | None = None):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=run_forever, name="forecasts-scheduler",
                                       args=(db, interval_s, self.stop_event),
                                       kwargs={"report": report, "settings": settings},
                                       daemon=True)

    def start(self) -> Background:
        """Start the thread; returns self."""
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop and wait for the pass in progress to finish."""
        self.stop_event.set()
        self.thread.join(timeout)
