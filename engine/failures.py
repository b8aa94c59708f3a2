"""What a log may say about a failure: where it happened and what type of error it was, never
the error's message.

A message can quote the data the failure was about: a database error carries the row it could
not write (SQLAlchemy appends the statement's parameters — a whole execution record with the
webhook's payload), PostgreSQL's ``DETAIL`` names the duplicate key, a connector's error quotes
the API's answer, a ``KeyError`` is its key. Logs travel further than the store (log shippers,
support tickets), so the worker and service paths log ids (execution, scenario, webhook, module)
and the error's type, with the traceback's frames — file, line, function and source line, which
are code — but no message. The message stays where access is controlled: the execution record.

    try:
        run(execution_id)
    except Exception as error:
        log_failure(log, "execution %s of scenario %s could not run", execution_id, 7, error=error)

logs ``execution 4f… of scenario 7 could not run: sqlalchemy.exc.IntegrityError`` and the frames.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator


def error_type(error: BaseException) -> str:
    """The qualified name of the error's type (``sqlalchemy.exc.IntegrityError``; builtins bare)."""
    kind = type(error)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def traceback_without_messages(error: BaseException) -> str:
    """The traceback Python would print for ``error`` and its causes, each exception shown by
    its type alone."""
    blocks = []
    for link in reversed(list(_chain(error))):  # the first cause first, as Python prints them
        frames = "".join(traceback.format_tb(link.__traceback__))
        blocks.append(f"Traceback (most recent call last):\n{frames}{error_type(link)}")
    return "\n\nwhich led to\n\n".join(blocks)


def log_failure(
    logger: logging.Logger,
    message: str,
    *args: object,
    error: BaseException,
    level: int = logging.ERROR,
) -> None:
    """Log ``message % args`` with the error's type and its frames, never its message.

    ``message`` names the failure by ids only (``"execution %s could not run"``).
    """
    logger.log(
        level,
        message + ": %s (message left out: it may quote data)\n%s",
        *args,
        error_type(error),
        traceback_without_messages(error),
    )


class TaskFailed(Exception):
    """What a queue sees of a failed task: its ids and the error's type (the original error is
    logged by ``log_failure``, without its message, just before)."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the exceptions that led to it (``raise … from``, or raised while handling)."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
