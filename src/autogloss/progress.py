"""Progress that long commands report, and the time budget they keep.

Library code reports through a *progress* callback: called with a message,
it is a line worth keeping in a log (an epoch's scores, "reading odin").
A :class:`Reporter` is such a callback that also shows counted work, a
:class:`Task` with a total, so that a person sees how far it is and how long
is left: on a terminal as a live bar with an ETA (:class:`TerminalReporter`),
elsewhere as plain lines now and then (:class:`LogReporter`), because a log
or CI job cannot redraw a bar. Library code calls :func:`task` on whatever
callback it was given; a plain function (``print``, a test's list's
``append``) then sees the lines only.

:class:`Budget` is a command's wall-clock time: started with the process, it
says how much time is left for a loop (training) once the work that must
follow it (scoring, saving), estimated from measured costs, is set aside.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

Progress = Callable[[str], None]

#: A plain progress line at least this often while a task runs, in seconds ...
LOG_EVERY_SECONDS = 30.0
#: ... and at each such share of the total, if a line is not too recent.
LOG_EVERY_SHARE = 0.1
LOG_MIN_GAP_SECONDS = 5.0


def clock(seconds: float) -> str:
    """``1:02:03`` or ``2:05``: a duration as people read one."""
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def time_left(done: float, total: float | None, elapsed: float) -> float | None:
    """Seconds left at the average rate so far (None while there is no rate or no total)."""
    if total is None or done <= 0 or elapsed <= 0:
        return None
    return max(total - done, 0.0) * elapsed / done


class Task:
    """Counted work of known or unknown total; a no-op unless a reporter shows it."""

    def __init__(self, description: str, total: float | None = None):
        self.description, self.total = description, total
        self.completed = 0.0
        self.counted_from = 0.0  # work done before this process took the task up (a resumed run)
        self.started = time.monotonic()

    def resume_from(self, completed: float) -> None:
        """The task goes on from ``completed``, done by an earlier, interrupted
        run: the time left is reckoned from the rate of this run's own work."""
        self.completed = self.counted_from = completed
        self.started = time.monotonic()
        self._resumed()

    def advance(self, steps: float = 1) -> None:
        self.update(completed=self.completed + steps)

    def update(self, *, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None:
        if completed is not None:
            self.completed = completed
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        self._shown()

    def done(self) -> None:
        """The work is finished (or abandoned): stop showing it."""

    def __enter__(self) -> Task:
        return self

    def __exit__(self, *exc) -> None:
        self.done()

    def _shown(self) -> None:
        """Show the new state (subclasses)."""

    def _resumed(self) -> None:
        """Show that the task started again part-way (subclasses; by default as any new state)."""
        self._shown()

    def seconds_left(self, now: float | None = None) -> float | None:
        """The time left at this run's average rate (None while unknown)."""
        elapsed = (time.monotonic() if now is None else now) - self.started
        total = None if self.total is None else self.total - self.counted_from
        return time_left(self.completed - self.counted_from, total, elapsed)

    def status(self, now: float | None = None) -> str:
        """``glossing: 256/512 (50%), 0:31 elapsed, about 0:31 left``."""
        elapsed = (time.monotonic() if now is None else now) - self.started
        done = f"{self.completed:,.0f}"
        if self.total:
            share = min(self.completed / self.total, 1.0)
            done += f"/{self.total:,.0f} ({100 * share:.0f}%)"
        left = self.seconds_left(now)
        shown = f"{self.description}: {done}, {clock(elapsed)} elapsed"
        return shown + (f", about {clock(left)} left" if left is not None and self.completed < (self.total or 0) else "")


class Reporter:
    """A progress callback that also shows tasks. This base shows nothing."""

    def __call__(self, message: str) -> None:
        """A line to keep."""

    def task(self, description: str, total: float | None = None) -> Task:
        return Task(description, total)

    def close(self) -> None:
        """Stop showing anything (end of the command)."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def task(progress: Progress | None, description: str, total: float | None = None) -> Task:
    """A task on ``progress`` when it is a :class:`Reporter`; otherwise one that shows nothing."""
    if isinstance(progress, Reporter):
        return progress.task(description, total)
    return Task(description, total)


def say(progress: Progress | None, message: str) -> None:
    """Report a line on ``progress``, if there is one."""
    if progress is not None:
        progress(message)


def _tenth(share: float) -> int:
    """Which :data:`LOG_EVERY_SHARE` of the total ``share`` is in (0.7 is in the 7th, not the 6th, despite rounding)."""
    return math.floor(share / LOG_EVERY_SHARE + 1e-9)


class _LogTask(Task):
    def __init__(self, reporter: LogReporter, description: str, total: float | None):
        super().__init__(description, total)
        self.reporter = reporter
        self.last_line = self.started
        self.last_share = 0.0
        self.lines = 0

    def _shown(self) -> None:
        now = time.monotonic()
        since = now - self.last_line
        share = self.completed / self.total if self.total else 0.0
        crossed = _tenth(share) > _tenth(self.last_share)
        if since >= LOG_EVERY_SECONDS or (crossed and since >= LOG_MIN_GAP_SECONDS and share < 1.0):
            self._line(now)
            self.last_share = share

    def _resumed(self) -> None:
        self.last_line = self.started
        self.last_share = self.completed / self.total if self.total else 0.0

    def _line(self, now: float) -> None:
        self.reporter(self.status(now))
        self.last_line = now
        self.lines += 1

    def done(self) -> None:
        # short tasks pass in silence; one that reported progress reports its end
        if self.lines:
            self._line(time.monotonic())
            self.lines = 0


class LogReporter(Reporter):
    """Plain lines for logs and pipes: what the messages say, and for each
    running task a line with done/total, elapsed time and an ETA every
    :data:`LOG_EVERY_SECONDS` or :data:`LOG_EVERY_SHARE` of its total. Never a
    blank line, never a control character."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write

    def __call__(self, message: str) -> None:
        for line in message.splitlines():
            if line.strip():
                self.write(line)

    def task(self, description: str, total: float | None = None) -> Task:
        return _LogTask(self, description, total)


def stream_writer(stream: IO[str]) -> Callable[[str], None]:
    """Write each line to ``stream`` and flush, so a log shows it at once."""

    def write(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()

    return write


class _BarTask(Task):
    def __init__(self, reporter: TerminalReporter, description: str, total: float | None):
        super().__init__(description, total)
        self.reporter = reporter
        self.id = reporter.bars.add_task(description, total=total)

    def _shown(self) -> None:
        self.reporter.bars.update(self.id, completed=self.completed, total=self.total, description=self.description)

    def _resumed(self) -> None:
        # a reset bar forgets its speed samples: the jump to the resumed position is no speed
        self.reporter.bars.reset(self.id, completed=self.completed, total=self.total, description=self.description)

    def done(self) -> None:
        if self.id in self.reporter.bars.task_ids:
            self.reporter.bars.remove_task(self.id)


class TerminalReporter(Reporter):
    """Live bars with done/total, elapsed time and time remaining on a
    terminal's console; messages are printed above the bars."""

    def __init__(self, console: Console):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.console = console
        self.bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                             transient=True)
        self.bars.start()

    def __call__(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False)

    def task(self, description: str, total: float | None = None) -> Task:
        return _BarTask(self, description, total)

    def close(self) -> None:
        self.bars.stop()


def reporter_for(console: Console, stream: IO[str]) -> Reporter:
    """Bars when ``console`` is a terminal, plain lines to ``stream`` otherwise."""
    return TerminalReporter(console) if console.is_terminal else LogReporter(stream_writer(stream))


# -- the time budget -------------------------------------------------------------
def process_seconds() -> float:
    """Seconds since this process started (Linux: from /proc, so interpreter
    start-up and imports count; elsewhere: since this module was imported)."""
    try:
        with open(f"/proc/{os.getpid()}/stat", encoding="ascii") as handle:
            fields = handle.read().rpartition(")")[2].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time, ticks after boot
        return max(time.clock_gettime(time.CLOCK_BOOTTIME) - started, 0.0)
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _IMPORTED


_IMPORTED = time.monotonic()


def command_started(imported: float, age_at_import: float, entered: float, gap: float = 1.0) -> float:
    """When a command began (``time.monotonic()``), for a command line whose
    module was ``imported`` when the process was ``age_at_import`` seconds old
    and whose main function was ``entered``: at the start of the process if
    the process was started to run it (main follows the import at once, as
    under a console script), else when main was entered (a program or a test
    calling it in its own process)."""
    return imported - age_at_import if entered - imported < gap else entered


def training_seconds_left(budget: float, spent: float, after: float, step: float = 0.0) -> float:
    """Seconds a loop may still run within ``budget`` seconds of which ``spent``
    are gone, keeping ``after`` (the work that must follow it) and one more
    ``step`` (the loop's unit of work, which cannot be cut short) in hand."""
    return budget - spent - after - step


@dataclass
class Budget:
    """A command's wall-clock budget, and what the work after the main loop costs.

    ``seconds`` None is no budget. Costs are measured while the command runs
    (:meth:`measure`, :meth:`timed`): ``budget.cost("dev") * 13 + budget.cost("save")``
    is then the time to keep for thirteen dev scorings and a save.
    """

    seconds: float | None
    spent_before: float = 0.0  # seconds gone before the clock was made (process start-up)
    started: float = field(default_factory=lambda: time.monotonic())  # looked up when made, not when defined
    costs: dict[str, float] = field(default_factory=dict)

    @classmethod
    def for_command(cls, minutes: float | None, started: float | None = None) -> Budget:
        """``minutes`` of a command that began at ``started`` (a ``time.monotonic()``; default: now)."""
        return cls(None if minutes is None else 60 * minutes,
                   started=time.monotonic() if started is None else started)

    def spent(self) -> float:
        return self.spent_before + time.monotonic() - self.started

    def left(self) -> float:
        return math.inf if self.seconds is None else self.seconds - self.spent()

    def measure(self, name: str, seconds: float) -> None:
        """Remember the latest cost of one ``name`` (a dev scoring, a save)."""
        self.costs[name] = seconds

    def cost(self, name: str, otherwise: float = 0.0) -> float:
        return self.costs.get(name, otherwise)

    def timed(self, name: str) -> _Timer:
        """``with budget.timed("save"): ...`` measures the cost of a save."""
        return _Timer(self, name)

    def loop_may_go_on(self, after: float, step: float = 0.0) -> bool:
        """Whether one more ``step`` fits with ``after`` seconds of work still to follow."""
        if self.seconds is None:
            return True
        return training_seconds_left(self.seconds, self.spent(), after, step) > 0


class _Timer:
    def __init__(self, budget: Budget, name: str):
        self.budget, self.name = budget, name

    def __enter__(self) -> _Timer:
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.budget.measure(self.name, time.monotonic() - self.started)
