"""Anomaly detection: ``detect_anomaly`` / ``set_detect_anomaly`` (process-wide, as in torch).

While enabled, every graph node records the Python stack of the forward call that created it
(in ``node.metadata["traceback_"]``); an error raised by that node's backward is re-raised with
the stack appended (and warned), and with ``check_nan`` a backward that produces NaN raises.
"""

from __future__ import annotations

import functools

from .._autograd_graph import ANOMALY

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return ANOMALY.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection also checks backward outputs for NaN."""
    return ANOMALY.check_nan


class _AnomalyContext:
    def __init__(self, mode: bool, check_nan: bool):
        self.mode = mode
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled = self.mode
        ANOMALY.check_nan = self.check_nan
        return self

    def __exit__(self, *exc):
        ANOMALY.enabled, ANOMALY.check_nan = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.mode, self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class detect_anomaly(_AnomalyContext):
    """Context manager / decorator enabling anomaly detection for its block.

    Args:
        check_nan: also raise when a backward function returns NaN values.

    Example::

        with mt.autograd.detect_anomaly():
            loss.backward()     # an error names the forward line that built the failing node
    """

    def __init__(self, check_nan: bool = True):
        super().__init__(True, check_nan)


class set_detect_anomaly(_AnomalyContext):
    """Turn anomaly detection on or off: as a call, a context manager or a decorator.

    Args:
        mode: True to enable, False to disable.
        check_nan: also raise when a backward function returns NaN values.
    """

    def __init__(self, mode: bool, check_nan: bool = True):
        super().__init__(mode, check_nan)
        self._prev = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled = mode
        ANOMALY.check_nan = check_nan

    def __call__(self, fn):
        ANOMALY.enabled, ANOMALY.check_nan = self._prev  # a decorator: undo the eager switch
        return super().__call__(fn)
