"""The post-editor's background job: learning from the corrections, one at a time.

The fine-tuning runs in a process of its own (:func:`autogloss.learning.run_learning_job`,
started with ``spawn``), so the server's threads, and torch's in them, stay
free for glossing requests. The job reports to a JSON file that the page's
polling reads (:meth:`Learning.status`); a thread waits for the process to
end and then hands the new model to ``on_trained`` (register it, re-gloss
the document), in this process. A second start while a job runs is refused
(409); a failure leaves a one-line message, and nothing is changed.
"""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from fastapi import HTTPException

from ..errors import AutoglossError
from ..learning import LearningJob, StatusFile, run_learning_job
from ..progress import clock

logger = logging.getLogger(__name__)

#: What the server does with a trained model (register it, re-gloss): returns the line the page shows.
OnTrained = Callable[[LearningJob], str]


@dataclass
class _Running:
    job: LearningJob
    document: str
    process: multiprocessing.process.BaseProcess
    scratch: Path
    started: float = field(default_factory=time.monotonic)
    #: What runs in this process once the training is over (re-glossing).
    phase: str | None = None
    #: The status shown once everything is over.
    final: dict | None = None
    finished: threading.Event = field(default_factory=threading.Event)


class Learning:
    """At most one learning job, its progress and the outcome of the last one.

    ``runner`` is what the job's process runs (by default
    :func:`~autogloss.learning.run_learning_job`): a module-level function of
    one :class:`~autogloss.learning.LearningJob`.
    """

    def __init__(self, runner: Callable[[LearningJob], None] = run_learning_job):
        self._runner = runner
        self._lock = threading.Lock()
        self._current: _Running | None = None
        self._context = multiprocessing.get_context("spawn")  # never fork a server with threads and torch in it

    def start(self, job: LearningJob, document: str, on_trained: OnTrained) -> dict:
        """Start ``job`` for ``document`` (a document id) in its own process."""
        with self._lock:
            running = self._current
            if running is not None and running.final is None:
                raise HTTPException(409, f"a model is already learning from the corrections (started "
                                         f"{clock(time.monotonic() - running.started)} ago, from "
                                         f"{running.job.base_name}): wait for it to finish")
            scratch = Path(tempfile.mkdtemp(prefix="autogloss-learning-"))
            job = replace(job, status=scratch / "status.json")
            process = self._context.Process(target=self._runner, args=(job,), daemon=True,
                                            name="autogloss-learning")
            process.start()
            self._current = running = _Running(job, document, process, scratch)
        threading.Thread(target=self._wait, args=(running, on_trained), daemon=True,
                         name="autogloss-learning-wait").start()
        return self.status()

    def _wait(self, running: _Running, on_trained: OnTrained) -> None:
        running.process.join()
        reported = StatusFile.read(running.job.status)
        final = {**reported, "state": "failed"}
        if reported.get("state") == "trained" and running.process.exitcode == 0:
            with self._lock:
                running.phase = "re-glossing the sentences nobody has accepted"
            try:
                final.update(state="done", message=on_trained(running.job), eta=0.0)
            except (AutoglossError, HTTPException, OSError) as error:
                final["message"] = (f"the model was trained ({running.job.out_dir}) but could not be used: "
                                    f"{getattr(error, 'detail', None) or error}")
            except Exception as error:  # noqa: BLE001 - shown in the page, never lost in a thread
                logger.exception("using the learned model %s", running.job.out_dir)
                final["message"] = (f"the model was trained ({running.job.out_dir}) but could not be used "
                                    f"({type(error).__name__}: {error})")
        elif reported.get("state") != "failed":
            shutil.rmtree(running.job.out_dir, ignore_errors=True)
            final["message"] = (f"the training process ended unexpectedly (exit code {running.process.exitcode}); "
                                f"nothing was changed")
        shutil.rmtree(running.scratch, ignore_errors=True)
        with self._lock:
            running.final = final
        running.finished.set()

    def status(self) -> dict:
        """What the page shows: ``state`` (``idle``, ``training``,
        ``re-glossing``, ``done``, ``failed``), ``phase``, ``done`` and
        ``total`` steps, ``elapsed`` and ``eta`` seconds, ``message``, and
        the job's ``document``, new ``model``, ``base`` and ``epochs``."""
        with self._lock:
            running = self._current
            if running is None:
                return {"state": "idle"}
            if running.final is not None:
                shown = dict(running.final)
            else:
                shown = {"state": "training", "phase": "starting", **StatusFile.read(running.job.status)}
                if running.phase is not None:
                    shown.update(state="re-glossing", phase=running.phase, eta=None)
                elif shown["state"] != "training":  # the process is ending: its waiting thread decides
                    shown["state"] = "training"
            shown.update(document=running.document, model=running.job.out_dir.name, base=running.job.base_name,
                         epochs=running.job.epochs)
            if running.final is None:
                shown["elapsed"] = round(time.monotonic() - running.started, 1)
            return shown

    def wait(self) -> dict:
        """Wait for the current job, re-glossing included, to end; its final status."""
        with self._lock:
            running = self._current
        if running is not None:
            running.finished.wait()
        return self.status()

    def stop(self) -> None:
        """End a running job (the server is stopping); its unfinished model is removed."""
        with self._lock:
            running = self._current
        if running is not None and running.final is None and running.process.is_alive():
            running.process.terminate()
            running.process.join()
            shutil.rmtree(running.job.out_dir, ignore_errors=True)
