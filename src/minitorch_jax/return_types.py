"""Named result tuples of the ops that return several tensors, as ``torch.return_types``.

Each type is a :func:`collections.namedtuple`: it unpacks like a tuple (``v, i = mt.max(x, 0)``)
and names its fields like torch (``mt.max(x, 0).values``, ``.indices``).

Example::

    >>> r = mt.sort(mt.tensor([3.0, 1.0, 2.0]))
    >>> r.values, r.indices
    (tensor([1., 2., 3.]), tensor([1, 2, 0]))
"""

from __future__ import annotations

from collections import namedtuple

__all__ = ["aminmax", "cummax", "cummin", "frexp", "histogram", "histogramdd", "kthvalue", "max", "median",
           "min", "mode", "nanmedian", "sort", "topk"]


def _make(name: str, fields: tuple[str, ...]) -> type:
    """A namedtuple type ``name`` with ``fields`` and torch's multi-line repr."""
    base = namedtuple(name, fields)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"minitorch_jax.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                               "__doc__": f"Result of ``{name}``: fields {', '.join(fields)}.",
                               "__module__": __name__})
    return cls


_VI = ("values", "indices")

max = _make("max", _VI)  # noqa: A001 - torch's name
min = _make("min", _VI)  # noqa: A001 - torch's name
median = _make("median", _VI)
nanmedian = _make("nanmedian", _VI)
mode = _make("mode", _VI)
sort = _make("sort", _VI)
topk = _make("topk", _VI)
kthvalue = _make("kthvalue", _VI)
cummax = _make("cummax", _VI)
cummin = _make("cummin", _VI)
aminmax = _make("aminmax", ("min", "max"))
frexp = _make("frexp", ("mantissa", "exponent"))
histogram = _make("histogram", ("hist", "bin_edges"))
histogramdd = _make("histogramdd", ("hist", "bin_edges"))
