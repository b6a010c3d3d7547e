"""The one exception type of :mod:`framing.backbone`.

It subclasses :class:`RuntimeError` so that the CLI's ``clean_errors`` turns it
into a one-line message, and it always names the file or directory at fault.
"""
from __future__ import annotations

__all__ = ["BackboneError"]


class BackboneError(RuntimeError):
    """A backbone could not be found, parsed, validated, rebuilt or exported."""
