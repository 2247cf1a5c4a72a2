"""``Compare``: Measurements as a table grouped like ``torch.utils.benchmark.Compare``: one table per
label, a row per sub_label (statement), a column per description, one block per thread count."""

from __future__ import annotations

from .measurement import Measurement, select_unit

__all__ = ["Compare"]


class Compare:
    """A table of :class:`Measurement` medians.

    Args:
        results: a list of Measurements (from :class:`Timer`).

    Methods: :meth:`print`, :meth:`extend_results`, :meth:`trim_significant_figures`,
    :meth:`colorize` (highlights the fastest entry of each row), :meth:`highlight_warnings`;
    ``str(compare)`` is the table.
    """

    def __init__(self, results):
        self._results: list[Measurement] = []
        self._trim = False
        self._colorize = False
        self._warnings = False
        self.extend_results(results)

    def extend_results(self, results) -> None:
        """Add more Measurements."""
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Compare expects Measurements (from Timer), got {type(r).__name__}")
            self._results.append(r)

    def trim_significant_figures(self) -> None:
        """Show each value with only the digits its spread justifies."""
        self._trim = True

    def colorize(self, rowwise: bool = False) -> None:
        """Mark the fastest entry of each row (bold green on a terminal, ``*`` otherwise)."""
        self._colorize = True

    def highlight_warnings(self) -> None:
        """Mark entries whose IQR is large with ``(! NN%)``."""
        self._warnings = True

    def _fmt(self, m: Measurement, scale: float, best: bool) -> str:
        v = m.median / scale
        if self._trim:
            digits = max(m.significant_figures, 1)
            mag = len(str(int(abs(v)))) if abs(v) >= 1 else 0
            text = f"{v:.{max(digits - mag, 0)}f}" if digits > mag else f"{round(v, digits - mag):.0f}"
        else:
            text = f"{v:.1f}"
        if self._warnings and m.has_warnings:
            text += f" (! {100 * m.iqr / m.median:.0f}%)"
        if self._colorize and best:
            text = f"*{text}*"
        return text

    def _table(self, label, group) -> str:
        descs = list(dict.fromkeys(m.description for m in group))
        unit, scale = select_unit(min(m.median for m in group))
        header = [""] + [str(d) if d is not None else "" for d in descs]
        blocks = []
        for threads in sorted({m.num_threads for m in group}):
            rows = {}
            for m in group:
                if m.num_threads == threads:
                    rows.setdefault(m.row_name, {})[m.description] = m
            body = []
            for name, cells in rows.items():
                best = min(cells.values(), key=lambda m: m.median)
                body.append([name] + [self._fmt(cells[d], scale, cells[d] is best) if d in cells else ""
                                      for d in descs])
            blocks.append((threads, body))
        every = [header] + [b for _, bs in blocks for b in bs]
        widths = [max(len(r[i]) for r in every) for i in range(len(header))]
        line = lambda cells: "  |  ".join([cells[0].rjust(widths[0] + 4)]
                                          + [c.center(w) for c, w in zip(cells[1:], widths[1:])])
        head = line(header)
        title = f" {label} " if label is not None else ""
        out = [f"[{title.center(len(head) - 2, '-')}]", head]
        for threads, body in blocks:
            out.append(f"{threads} threads: ".ljust(len(head), "-"))
            out.extend(line(b) for b in body)
        out.append("")
        out.append(f"Times are in {_UNIT_NAMES[unit]} ({unit}).")
        return "\n".join(out)

    def __str__(self) -> str:
        by_label: dict = {}
        for m in self._results:
            by_label.setdefault(m.label, []).append(m)
        return "\n\n".join(self._table(label, group) for label, group in by_label.items()) + "\n"

    def print(self) -> None:
        """Print the table(s)."""
        print(str(self))


_UNIT_NAMES = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds"}
