"""In-place random fills (``uniform_``, ``normal_`` ...) drawing from the global generator."""

from __future__ import annotations
