"""``OptimizedModule``: what ``mt.compile(model)`` / ``mt.jit(model)`` return - a Module whose
forward runs as a compiled program, sharing ``model``'s parameters (torch's ``OptimizedModule``:
the original is ``_orig_mod``)."""

from __future__ import annotations

from ..nn.modules.module import Module
from ._compiled import CompiledFunction

__all__ = ["OptimizedModule"]


class OptimizedModule(Module):
    """Wraps ``mod``: calling it runs ``mod(*args, **kwargs)`` compiled. Attributes not found here
    are looked up on ``mod``; parameters, buffers and ``state_dict`` are ``mod``'s (with torch's
    ``_orig_mod.`` key prefix)."""

    def __init__(self, mod: Module, **opts):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled", CompiledFunction(mod, name=type(mod).__name__, **opts))

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)

    def __repr__(self) -> str:
        return f"OptimizedModule(\n  (_orig_mod): {repr(self._orig_mod).replace(chr(10), chr(10) + '  ')}\n)"

    @property
    def num_compiles(self) -> int:
        """Programs compiled so far."""
        return self._compiled.num_compiles

    def explain(self, print_out: bool = False) -> str:
        """Each compilation and why (see :meth:`CompiledFunction.explain`)."""
        return self._compiled.explain(print_out)

    def lower(self, *args, **kwargs):
        """The lowered program for these arguments."""
        return self._compiled.lower(*args, **kwargs)

    def cost_analysis(self, *args, **kwargs) -> dict:
        """XLA's cost estimate for these arguments."""
        return self._compiled.cost_analysis(*args, **kwargs)

    @property
    def eager(self):
        """The original module."""
        return self._orig_mod
