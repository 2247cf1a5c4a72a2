"""``Measurement``: the times of one Timer run, shaped like ``torch.utils.benchmark.Measurement``."""

from __future__ import annotations

import math
import statistics

import numpy as np

__all__ = ["Measurement", "select_unit"]


def select_unit(t: float):
    """(unit name, scale) to show seconds ``t`` in: ns, us, ms or s."""
    for unit, scale in (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3)):
        if t < scale * 1000:
            return unit, scale
    return "s", 1.0


class Measurement:
    """Times of a statement: ``raw_times[i]`` is the duration of a block of ``number_per_run`` runs.

    Attributes / properties:
        times: per-run times in seconds (``raw_times / number_per_run``).
        median, mean, iqr: statistics of ``times`` (seconds).
        label, sub_label, description, stmt, setup, num_threads: what was timed (for :class:`Compare`).
        title: ``label: sub_label`` or the statement.
        significant_figures: how many digits the spread justifies (as torch computes it).
    """

    def __init__(self, number_per_run: int, raw_times, *, stmt="", setup="pass", label=None, sub_label=None,
                 description=None, num_threads: int = 1, env=None, metadata=None):
        self.number_per_run = int(number_per_run)
        self.raw_times = [float(t) for t in raw_times]
        self.stmt, self.setup = stmt, setup
        self.label, self.sub_label, self.description = label, sub_label, description
        self.num_threads, self.env, self.metadata = num_threads, env, metadata

    @property
    def times(self) -> list:
        """Per-run times in seconds."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        """Median per-run time (seconds)."""
        return statistics.median(self.times)

    @property
    def mean(self) -> float:
        """Mean per-run time (seconds)."""
        return statistics.fmean(self.times)

    def _quantiles(self):
        return np.percentile(np.asarray(self.times), [25, 75])

    @property
    def iqr(self) -> float:
        """Interquartile range of the per-run times (seconds)."""
        q1, q3 = self._quantiles()
        return float(q3 - q1)

    @property
    def has_warnings(self) -> bool:
        """True when the spread is large (IQR over 10% of the median with enough samples)."""
        return len(self.times) >= 4 and self.iqr / self.median > 0.1

    def meets_confidence(self, threshold: float = 0.1) -> bool:
        """True when the IQR is within ``threshold`` of the median (with at least 4 blocks)."""
        return len(self.times) >= 4 and self.iqr / self.median < threshold

    @property
    def significant_figures(self) -> int:
        """Digits worth showing: from the standard error of the median (1 to 4), as torch does."""
        n = len(self.times)
        if n < 2:
            return 2 if n else 1
        std = statistics.stdev(self.times)
        rel = (std / math.sqrt(n)) / self.median if self.median else 1.0
        return int(max(1, min(4, -math.floor(math.log10(max(rel, 1e-12))))))

    @property
    def title(self) -> str:
        """``label: sub_label`` (or the statement when there is no label)."""
        if self.label is not None:
            return f"{self.label}: {self.sub_label}" if self.sub_label else str(self.label)
        return self.stmt or "callable"

    @property
    def row_name(self) -> str:
        """The Compare row name: the sub_label, else the statement."""
        return str(self.sub_label) if self.sub_label is not None else (self.stmt or "callable")

    def __repr__(self) -> str:
        unit, scale = select_unit(self.median)
        lines = [f"<minitorch_jax.utils.benchmark.Measurement object at {hex(id(self))}>", self.title]
        if self.description:
            lines.append(str(self.description))
        if self.label is None and self.setup not in ("", "pass", None):
            lines.append(f"setup: {self.setup}")
        n = len(self.times)
        if n > 1:
            q1, q3 = self._quantiles()
            lines.append(f"  Median: {self.median / scale:.2f} {unit}")
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({q1 / scale:.2f} to {q3 / scale:.2f})")
        else:
            lines.append(f"  {self.median / scale:.2f} {unit}")
        meas = "measurement" if n == 1 else "measurements"
        per = "runs per measurement" if n > 1 else "runs"
        lines.append(f"  {n} {meas}, {self.number_per_run} {per}, {self.num_threads} thread"
                     f"{'s' if self.num_threads != 1 else ''}")
        if self.has_warnings:
            pct = 100 * self.iqr / self.median
            lines.append(f"  WARNING: Interquartile range is {pct:.1f}% of the median "
                         "measurement.\n           This could indicate system fluctuation.")
        return "\n".join(lines)

    __str__ = __repr__
