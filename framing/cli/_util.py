"""Helpers shared by CLI subcommands: reading TEXT|-, clean error reporting."""
from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def read_text_arg(text: str | None) -> str:
    """Return TEXT, or stdin when TEXT is ``-`` or missing and stdin is piped."""
    if text is None or text == "-":
        if text is None and sys.stdin.isatty():
            raise click.UsageError("give TEXT or '-' to read standard input")
        return sys.stdin.read()
    return text


def clean_errors(func: F) -> F:
    """Turn library exceptions into a one-line ``Error: ...`` and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise
        except (ValueError, TypeError, FileNotFoundError, OSError, RuntimeError) as exc:
            raise click.ClickException(f"{exc}") from exc

    return wrapper  # type: ignore[return-value]
