"""Reading an uploaded file where it cannot take the server down.

One dashboard server serves every browser session on the machine, so a file that
makes a reader crash, exhaust memory or loop must cost only its own upload. The
functions here run the loader in a child process with an address-space limit
(``max_read_memory_mb``) and a wall-clock limit (``max_read_seconds``); at most
``max_parallel_reads`` such children run at once. A child that dies, runs out of
memory or is stopped for taking too long becomes one :class:`ReadAborted` (an
:class:`InputError`) with a message a clinician can act on; the server and every
other session carry on.

Children are forked from a small server process that has already imported the
loader (``multiprocessing``'s *forkserver*), so a read starts in milliseconds and
no child inherits the dashboard's threads. The file's bytes go to the child through
a pipe and are never written to disk.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing import context as mp_context
from multiprocessing import forkserver, popen_forkserver, spawn, util
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from analytics.cohort import Cohort
from analytics.errors import AnalysisError, InputError, NeedsAnswer, ReadAborted
from analytics.limits import LIMITS
from analytics.reading.window_rules import VisitWindows

__all__ = [
    "ReadStats",
    "header_columns_isolated",
    "load_cohort_isolated",
    "peak_rss_mb",
    "run_isolated",
]

T = TypeVar("T")
_MB = 1024 * 1024
_PRELOAD = ["analytics.reading.loader"]

_context_lock = threading.Lock()
_context: Any = None
_slots = threading.BoundedSemaphore(int(LIMITS["max_parallel_reads"].value))


@dataclass(frozen=True)
class ReadStats:
    """What the last isolated read in this thread cost: seconds and peak child memory."""

    seconds: float
    peak_rss_mb: float


_last = threading.local()


def last_read_stats() -> ReadStats | None:
    """Seconds and peak resident memory of this thread's last isolated read (or None)."""
    return getattr(_last, "stats", None)


class _Popen(popen_forkserver.Popen):
    """The forkserver launcher, minus re-running the parent's ``__main__`` in the child.

    multiprocessing normally re-imports the parent's main module in every child. In a
    Streamlit server that "main module" is the page script being run, so the child
    would run the app. The child needs only the loader, which the fork server has
    imported already. The body is ``multiprocessing.popen_forkserver.Popen._launch``
    (CPython 3.11 to 3.13) with the two main-module entries dropped.
    """

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_name", None)
        prep_data.pop("init_main_from_path", None)
        buf = io.BytesIO()
        mp_context.set_spawning_popen(self)
        try:
            mp_context.reduction.dump(prep_data, buf)
            mp_context.reduction.dump(process_obj, buf)
        finally:
            mp_context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(mp_context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        return _Popen(process_obj)


def _mp_context() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            _context = context
    return _context


def _address_space_bytes() -> int:
    """The calling process's current virtual memory size (Linux), or 0 if unknown."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_memory(budget_bytes: int) -> None:
    """Allow the child ``budget_bytes`` of address space beyond what it maps already."""
    if budget_bytes <= 0:
        return
    limit = _address_space_bytes() + budget_bytes
    with contextlib.suppress(ValueError, OSError):  # e.g. macOS does not enforce RLIMIT_AS
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: ``VmHWM`` where Linux gives it (its
    ``ru_maxrss`` carries the parent's peak over fork and exec, so a small child of a
    large process would report the parent's), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB (Linux)
    return peak / 1024 if sys.platform == "darwin" else peak  # bytes there


def _child(
    conn: Connection,
    budget_bytes: int,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Run ``function`` under the memory limit and send back what became of it."""
    _limit_memory(budget_bytes)
    try:
        outcome: tuple[str, Any] = ("ok", function(*args, **kwargs))
    except NeedsAnswer as error:  # a question for the user: sent with what it asks
        outcome = ("question", (str(error), error.question, error.column))
    except InputError as error:
        outcome = ("input", str(error))
    except AnalysisError as error:
        outcome = ("analysis", str(error))
    except MemoryError:
        outcome = ("memory", "")
    except BaseException as error:  # anything else is a reader failure, never a traceback
        outcome = ("failed", type(error).__name__)
    peak = peak_rss_mb()
    try:
        conn.send((*outcome, peak))
    except MemoryError:
        conn.send(("memory", "", peak))
    except Exception as error:  # a result that cannot be sent back
        conn.send(("failed", type(error).__name__, peak))
    finally:
        conn.close()


def _memory_message() -> str:
    limit = LIMITS["max_read_memory_mb"].value
    return (
        f"This file needs more memory than the dashboard allows for reading one file "
        f"({limit:,.0f} MB), so it was not read. If it is a real cohort, save only the "
        "sheet and columns you need (or split it) and upload again; a small file that "
        "needs this much is damaged or built to harm."
    )


def _timeout_message(seconds: float) -> str:
    return (
        f"Reading this file took longer than the dashboard allows ({seconds:,.0f} s), so it "
        "was stopped. Save only the sheet and columns you need as .xlsx or CSV and upload "
        "again."
    )


def _failure_message(reason: str) -> str:
    return (
        f"The file could not be read: the reader stopped ({reason}). Open it in Excel, "
        "save it again as .xlsx or CSV, and upload it again."
    )


def _death(exitcode: int | None) -> ReadAborted:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        # an allocation the memory limit refused ends in an abort; the kernel's
        # out-of-memory killer sends SIGKILL
        if name in ("SIGABRT", "SIGKILL"):
            return ReadAborted(_memory_message(), "memory")
        return ReadAborted(_failure_message(f"it crashed, {name}"), "crash")
    return ReadAborted(_failure_message(f"exit status {exitcode}"), "crash")


def run_isolated(
    function: Callable[..., T],
    /,
    *args: Any,
    memory_mb: float | None = None,
    seconds: float | None = None,
    **kwargs: Any,
) -> T:
    """Call ``function(*args, **kwargs)`` in a child process with memory and time limits.

    Parameters
    ----------
    function
        A module-level function (it is sent to the child by reference).
    memory_mb, seconds
        The limits; default ``max_read_memory_mb`` and ``max_read_seconds``.

    Returns
    -------
    What ``function`` returned.

    Raises
    ------
    InputError
        ``function`` raised one (the message is passed on).
    ReadAborted
        The child ran out of memory, took too long, or died (``reason`` says which;
        the message says it in words).
    AnalysisError
        ``function`` raised one.
    """
    budget = int((memory_mb or LIMITS["max_read_memory_mb"].value) * _MB)
    wait = float(seconds or LIMITS["max_read_seconds"].value)
    context = _mp_context()
    with _slots:
        started = time.perf_counter()
        receive, send = context.Pipe(duplex=False)
        process = _Process(target=_child, args=(send, budget, function, args, kwargs), daemon=True)
        try:
            process.start()
        finally:
            send.close()
        try:
            if not receive.poll(wait):
                raise ReadAborted(_timeout_message(wait), "time")
            try:
                status, payload, peak = receive.recv()
            except (EOFError, OSError):  # the child died without a word
                process.join(5)
                raise _death(process.exitcode) from None
        finally:
            receive.close()
            if process.is_alive():
                process.kill()
            process.join(5)
        _last.stats = ReadStats(time.perf_counter() - started, float(peak))
    if status == "ok":
        return payload
    if status == "question":
        raise NeedsAnswer(*payload)
    if status == "input":
        raise InputError(payload)
    if status == "analysis":
        raise AnalysisError(payload)
    if status == "memory":
        raise ReadAborted(_memory_message(), "memory")
    raise ReadAborted(_failure_message(payload), "crash")


def _load(
    data: bytes,
    filename: str,
    sheet: str | None,
    mapping: Mapping[str, str] | None,
    is_demo: bool,
    windows: VisitWindows | None = None,
    anchor_file: tuple[str, bytes] | None = None,
) -> Cohort:
    from analytics.reading.loader import load_cohort

    return load_cohort(
        data,
        filename,
        sheet=sheet,
        mapping=mapping,
        is_demo=is_demo,
        windows=windows,
        anchor_file=anchor_file,
    )


def _header_columns(data: bytes, filename: str, sheet: str | None) -> list[str]:
    from analytics.reading.loader import header_columns

    return header_columns(data, filename, sheet)


def load_cohort_isolated(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    mapping: Mapping[str, str] | None = None,
    is_demo: bool = False,
    windows: VisitWindows | None = None,
    anchor_file: tuple[str, bytes] | None = None,
) -> Cohort:
    """:func:`analytics.reading.loader.load_cohort` in a child process (see :func:`run_isolated`).

    The same result and the same :class:`InputError` messages as the loader (a
    :class:`NeedsAnswer` keeps its question), plus clear refusals for a file that
    needs too much memory or time, or crashes a reader.
    """
    return run_isolated(
        _load, data, filename, sheet, dict(mapping or {}), is_demo, windows, anchor_file
    )


def header_columns_isolated(data: bytes, filename: str, sheet: str | None = None) -> list[str]:
    """:func:`analytics.reading.loader.header_columns` in a child process; ``[]`` if it fails."""
    try:
        return run_isolated(_header_columns, data, filename, sheet)
    except AnalysisError:
        return []
