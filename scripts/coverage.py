#!/usr/bin/env python
"""Compare the public names of PyTorch's main namespaces with minitorch_jax's; write docs/COVERAGE.md.

For each namespace pair (``torch`` / ``minitorch_jax``, ``torch.nn`` / ``minitorch_jax.nn``,
``torch.nn.functional``, ``torch.nn.utils``, ``torch.optim``, ``torch.optim.lr_scheduler``, ``torch.linalg``,
``torch.fft``, ``torch.special``, ``torch.amp``, ``torch.distributions``, ``torch.utils.data``,
``torch.utils.checkpoint``, ``torch.testing``, ``torch.compiler``) it lists torch's
public names, counts how many minitorch_jax also has, and lists the missing ones.

A torch name is *public* when it does not start with ``_`` and is either in the module's ``__all__``
or an attribute defined in that namespace or below it (a function or class; any torch C builtin; for
``torch``, also dtype, layout and memory-format objects). Left out: submodules, re-exports from
elsewhere (typing, stdlib, other torch namespaces), ``__torch_function__`` dispatch internals, the
TorchScript IR classes (pybind11 types such as ``Graph``, ``AliasDb``) and backend-specific kernels
(``cudnn_*``, ``miopen_*``, ``fbgemm_*``, ``mkldnn_*``, ``quantized_*``).
Only names are compared, not signatures or behaviour (the parity tests do that).

Needs torch (the oracle, never a runtime dependency): without it the script says so and exits with 1.

Usage: ``python scripts/coverage.py [--out docs/COVERAGE.md] [--stdout]``
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "COVERAGE.md"

NAMESPACES = ["", ".nn", ".nn.functional", ".nn.utils", ".optim", ".optim.lr_scheduler", ".optim.swa_utils",
              ".linalg", ".fft", ".special", ".amp", ".distributions", ".utils.data", ".utils.checkpoint",
              ".testing",
              ".compiler", ".autograd", ".autograd.graph", ".autograd.forward_ad", ".func", ".export",
              ".library", ".nn.attention", ".nn.attention.flex_attention", ".nn.init", ".signal.windows",
              ".accelerator", ".sparse", ".masked", ".distributed", ".cuda"]

# torch internals that are visible as attributes but are not API
INTERNAL = {"TYPE_CHECKING", "USE_GLOBAL_DEPS", "USE_RTLD_GLOBAL_WITH_LIBTORCH", "PRIVATE_OPS",
            "classproperty", "LoggerBase", "handle_torch_function", "has_torch_function",
            "has_torch_function_unary", "has_torch_function_variadic", "boolean_dispatch",
            "assert_int_or_pair", "BroadcastingList1", "BroadcastingList2", "BroadcastingList3",
            "get_file_path", "prepare_multiprocessing_environment",
            "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12", "compiled_with_cxx11_abi"}
BACKEND_PREFIXES = ("cudnn_", "miopen_", "fbgemm_", "mkldnn_", "quantized_")


def _excluded(name: str, obj) -> bool:
    """TorchScript IR classes, backend kernels and dispatch internals (see the module docstring)."""
    return (name in INTERNAL or name.startswith(BACKEND_PREFIXES)
            or type(obj).__name__ == "pybind11_type" or isinstance(obj, types.ModuleType))


def _defined_in(obj, namespace: str, torch) -> bool:
    """Whether ``obj`` belongs to ``namespace`` (not a module, not re-exported from elsewhere)."""
    if isinstance(obj, types.ModuleType):
        return False
    if isinstance(obj, (torch.dtype, torch.layout, torch.memory_format)):
        return namespace == "torch"
    if not callable(obj):
        return False
    mod = getattr(obj, "__module__", None) or ""
    if isinstance(obj, types.BuiltinFunctionType):  # ATen kernels exposed here (F.conv2d is torch's)
        return mod == "" or mod.split(".")[0] == "torch"
    return mod == namespace or mod.startswith(namespace + ".")


def torch_public_names(module, torch) -> list:
    """The public names of one torch namespace (see the module docstring)."""
    names = {n for n in getattr(module, "__all__", ()) if not n.startswith("_")}
    for n in dir(module):
        if n.startswith("_") or n in names:
            continue
        try:
            obj = getattr(module, n)
        except Exception:  # deprecated attributes may raise on access
            continue
        if _defined_in(obj, module.__name__, torch):
            names.add(n)
    return sorted(n for n in names if not _excluded(n, getattr(module, n, None)))


def compare(torch_ns: str, mt_ns: str) -> dict:
    """Counts and missing names for one namespace pair."""
    import torch

    tmod = importlib.import_module(torch_ns)
    try:
        mmod = importlib.import_module(mt_ns)
    except ImportError:
        mmod = None
    names = torch_public_names(tmod, torch)
    have = [n for n in names if mmod is not None and hasattr(mmod, n)]
    missing = [n for n in names if n not in set(have)]
    extra = []
    if mmod is not None:
        extra = sorted(n for n in dir(mmod) if not n.startswith("_") and n not in set(names)
                       and not isinstance(getattr(mmod, n), types.ModuleType))
    return {"torch": torch_ns, "mt": mt_ns, "total": len(names), "have": len(have), "missing": missing,
            "extra": extra}


def render(results: list, torch_version: str, mt_version: str) -> str:
    """The Markdown report."""
    out = ["# API coverage: minitorch_jax vs PyTorch", "",
           f"Generated by `python scripts/coverage.py` from torch {torch_version} and minitorch_jax "
           f"{mt_version}. Do not edit by hand.",
           "",
           "Only *names* are compared: a name counts as present when the minitorch_jax namespace has",
           "an attribute of that name (behaviour is checked by the parity tests). Tensor methods are not",
           "listed. Left out of torch's names: submodules, names re-exported from other modules,",
           "`__torch_function__` dispatch internals, TorchScript IR classes and backend kernels",
           "(`cudnn_*`, `miopen_*`, `fbgemm_*`, `mkldnn_*`, `quantized_*`); see `scripts/coverage.py`.",
           "", "| namespace | torch public names | in minitorch_jax | missing | coverage |",
           "| --- | ---: | ---: | ---: | ---: |"]
    tot = have = 0
    for r in results:
        pct = 100.0 * r["have"] / r["total"] if r["total"] else 100.0
        out.append(f"| `{r['torch']}` | {r['total']} | {r['have']} | {len(r['missing'])} | {pct:.1f}% |")
        tot += r["total"]
        have += r["have"]
    out.append(f"| **all** | {tot} | {have} | {tot - have} | {100.0 * have / max(tot, 1):.1f}% |")
    out += ["", "Names only minitorch_jax has (such as `mt.jit` helpers) are not counted.", ""]
    for r in results:
        out += [f"## `{r['torch']}` - missing {len(r['missing'])} of {r['total']}", ""]
        if r["missing"]:
            body = ", ".join(f"`{n}`" for n in r["missing"])
            out += textwrap.wrap(body, width=110, break_long_words=False, break_on_hyphens=False)
        else:
            out.append("Nothing missing.")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write the torch vs minitorch_jax API coverage report.")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the Markdown report")
    ap.add_argument("--stdout", action="store_true", help="print the report instead of writing it")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("scripts/coverage.py needs PyTorch (the reference it compares against); it is not installed.",
              file=sys.stderr)
        return 1
    import minitorch_jax

    results = [compare("torch" + ns, "minitorch_jax" + ns) for ns in NAMESPACES]
    text = render(results, torch.__version__, getattr(minitorch_jax, "__version__", "?"))
    if args.stdout:
        print(text)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    for r in results:
        print(f"{r['torch']:<26} {r['have']:4d} / {r['total']:4d}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
