"""Celery tasks for a national harvest spread over machines: one task per source, dispatched by beat from each source's schedule.

With ``CELERY_BROKER_URL`` set (Redis: ``redis://127.0.0.1:6379/0``), run a pool of workers and one
beat::

    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 celery -A harvest.tasks worker --concurrency 4
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 celery -A harvest.tasks beat

Beat fires ``dispatch_due`` at the start of every minute; it queues ``harvest_source`` for each
enabled source whose schedule (a cron expression, read in UTC) matches that minute, so a source
added at the admin page is picked up without restarting anything. Each source is its own task,
so hundreds of sources spread over every worker on every machine. At most one run per source
happens at a time whoever starts it (beat, ``harvest run`` from cron, a person at the CLI): the
core's lease on the source's row (``store.take_lease``) refuses a second harvester, which here
ends the task with ``busy``. A worker that dies mid-run leaves its checkpoint; the next run
resumes there once the lease has expired.

The workers read the same ``DATABASE_URL`` as the web application (``repository.config``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from dataclasses import asdict
from typing import Any

from celery import Celery, signals
from celery.schedules import crontab
from sqlalchemy.orm import Session, sessionmaker

from harvest import store
from harvest.client import ClientSettings
from harvest.run import HarvestOptions, harvest_source
from harvest.schedule import parse_cron

log = logging.getLogger(__name__)

celery = Celery("hylla_harvest")
celery.conf.update(
    broker_url=os.environ.get("CELERY_BROKER_URL"),
    result_backend=os.environ.get("CELERY_BROKER_URL"),
    result_expires=dt.timedelta(days=1),
    task_serializer="json", result_serializer="json", accept_content=["json"],
    timezone="UTC",
    # A harvest can run for hours: one task at a time per worker process, and no prefetching of
    # other sources' tasks behind it (they would wait while other workers sit idle).
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    beat_schedule={"harvest-due-sources": {"task": "harvest.dispatch_due", "schedule": crontab()}},
)


@signals.worker_init.connect
@signals.beat_init.connect
def _require_broker(**_: object) -> None:
    """Without CELERY_BROKER_URL Celery would quietly try RabbitMQ on localhost: say what is missing instead."""
    if not celery.conf.broker_url:
        raise RuntimeError("CELERY_BROKER_URL is not set: export it (e.g. redis://127.0.0.1:6379/0) before starting "
                           "harvest workers or beat, or harvest from cron with `flask --app wsgi harvest run`")


def configure(*, broker_url: str, database_url: str) -> Celery:
    """Point the tasks at a broker and a database (tests do this; deployments set the environment)."""
    celery.conf.update(broker_url=broker_url, result_backend=broker_url, hylla_database_url=database_url)
    _sessions.cache_clear()
    return celery


def _database_url() -> str:
    url = celery.conf.get("hylla_database_url") or os.environ.get("DATABASE_URL")
    if url:
        return str(url)
    from repository import create_app  # the web application's default (the instance folder's SQLite file)

    return str(create_app().config["DATABASE_URL"])


@functools.cache
def _sessions() -> sessionmaker[Session]:
    from repository.db import make_engine  # the application's engine settings (SQLite pragmas, pre-ping)

    return sessionmaker(bind=make_engine(_database_url()), expire_on_commit=False)


@celery.task(name="harvest.source")
def harvest_source_task(name: str, full: bool = False, timeout: float = 90.0, min_interval: float = 0.5) -> dict[str, Any]:
    """Harvest one source; ``busy`` when another harvester holds it. Parsing stays in the worker's own
    process: the worker pool is the parallelism, and its processes may not start pools of their own."""
    options = HarvestOptions(full=full, workers=1, client=ClientSettings(timeout=timeout, min_interval=min_interval))
    try:
        report = harvest_source(_sessions(), name, options)
    except store.SourceBusy as exc:
        log.info("harvest task source=%s busy: %s", name, exc)
        return {"source": name, "status": "busy", "message": str(exc)}
    return {"source": report.source, "status": report.status, "run_id": report.run_id, "pages": report.pages,
            "counts": asdict(report.counts), "message": report.message}


def due_sources(session: Session, moment: dt.datetime) -> list[str]:
    """Enabled sources whose schedule fires in ``moment``'s minute; an unreadable schedule is logged, not run."""
    names = []
    for source in store.list_sources(session):
        if not source.enabled or not source.schedule:
            continue
        try:
            if parse_cron(source.schedule).matches(moment):
                names.append(source.name)
        except ValueError as exc:
            log.error("source=%s schedule %r ignored: %s", source.name, source.schedule, exc)
    return names


@celery.task(name="harvest.dispatch_due")
def dispatch_due(at: str | None = None) -> list[str]:
    """Queue a harvest of every source due this minute (``at``: an ISO time, for tests and catch-up runs)."""
    moment = dt.datetime.fromisoformat(at) if at else dt.datetime.now(dt.UTC)
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=dt.UTC)  # schedules are read in UTC
    with _sessions()() as session:
        names = due_sources(session, moment)
    for name in names:
        harvest_source_task.delay(name)
    log.info("dispatch at=%s queued=%s", moment.isoformat(timespec="minutes"), ",".join(names) or "-")
    return names


@celery.task(name="harvest.all")
def harvest_all(full: bool = False) -> list[str]:
    """Queue every enabled source now, each as its own task (``harvest run`` spread over the workers)."""
    with _sessions()() as session:
        names = [source.name for source in store.list_sources(session) if source.enabled]
    for name in names:
        harvest_source_task.delay(name, full=full)
    return names
