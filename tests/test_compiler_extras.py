"""mt.compiler's remaining torch.compiler names: wrap_numpy (eager, gradients, mt.jit), default backend,
cache artifacts round trip and corrupt bytes, load_compiled_function, guard-filter helpers (against
torch's own on the same entries), substitute_in_graph, nested_compile_region."""

from __future__ import annotations

import types

import jax
import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch


@mt.compiler.wrap_numpy
def _sq_sum(a, b):
    return np.sum(a * a) + np.exp(b).mean()


def test_wrap_numpy_eager_grads_and_jit():
    x = mt.tensor([0.5, -1.0, 2.0], requires_grad=True)
    z = mt.tensor([[0.1, 0.2], [0.3, -0.4]], requires_grad=True)
    y = _sq_sum(x, z)
    want = float(np.sum(x.detach().numpy() ** 2) + np.exp(z.detach().numpy()).mean())
    assert isinstance(y, mt.Tensor) and abs(y.item() - want) < 1e-5
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), np.exp(z.detach().numpy()) / 4, rtol=1e-6)
    step = mt.jit(lambda a, b: _sq_sum(a, b) * 2)
    np.testing.assert_allclose(step(x, z).item(), 2 * want, rtol=1e-6)


def test_wrap_numpy_closure_and_from_import():
    import numpy
    from numpy import cos

    def make():
        npm = numpy

        def f(a):
            return npm.sin(a) + cos(a)
        return f
    g = mt.compiler.wrap_numpy(make())
    a = mt.tensor([0.0, 1.0])
    np.testing.assert_allclose(g(a).numpy(), np.sin([0.0, 1.0]) + np.cos([0.0, 1.0]), rtol=1e-6)


def test_default_backend_round_trip():
    assert mt.compiler.get_default_backend() == "xla"
    mt.compiler.set_default_backend("eager")
    try:
        assert mt.compiler.get_default_backend() == "eager"
    finally:
        mt.compiler.set_default_backend(None)
    assert mt.compiler.get_default_backend() == "xla"
    with pytest.raises(TypeError, match="set_default_backend"):
        mt.compiler.set_default_backend(3)


def test_cache_artifacts_round_trip(tmp_path):
    old = jax.config.jax_compilation_cache_dir
    try:
        jax.config.update("jax_compilation_cache_dir", None)
        assert mt.compiler.save_cache_artifacts() is None
        src = tmp_path / "src"
        (src / "sub").mkdir(parents=True)
        (src / "a-cache").write_bytes(b"abc")
        (src / "sub" / "b").write_bytes(b"\x00\x01")
        jax.config.update("jax_compilation_cache_dir", str(src))
        blob, info = mt.compiler.save_cache_artifacts()
        assert sorted(info.artifacts["jax_compilation_cache"]) == ["a-cache", "sub/b"]
        dst = tmp_path / "dst"
        jax.config.update("jax_compilation_cache_dir", str(dst))
        info2 = mt.compiler.load_cache_artifacts(blob)
        assert info2.artifacts == info.artifacts
        assert (dst / "a-cache").read_bytes() == b"abc" and (dst / "sub" / "b").read_bytes() == b"\x00\x01"
        with pytest.raises(RuntimeError, match="load_cache_artifacts: not the bytes"):
            mt.compiler.load_cache_artifacts(b"garbage")
        with pytest.raises(RuntimeError, match="corrupt or truncated"):
            mt.compiler.load_cache_artifacts(blob[:-5])
    finally:
        jax.config.update("jax_compilation_cache_dir", old)


def test_load_compiled_function_reads_mt_jit_save(tmp_path):
    lin = mt.nn.Linear(3, 2)
    traced = mt.jit.trace(lin, (mt.ones(4, 3),))
    path = tmp_path / "f.mtjit"
    mt.jit.save(traced, str(path))
    with open(path, "rb") as fh:
        f = mt.compiler.load_compiled_function(fh)
    x = mt.randn(4, 3)
    np.testing.assert_allclose(f(x).numpy(), lin(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def _entries(tmod):
    """Guard entries shaped like torch's GuardFilterEntry, for both libraries' filters."""
    def src(unspec, builtin):
        return types.SimpleNamespace(source=types.SimpleNamespace(
            is_unspecialized_nn_module=lambda: unspec, is_unspecialized_builtin_nn_module=lambda: builtin))
    kinds = [("TENSOR_MATCH", tmod.nn.Parameter(tmod.zeros(1)), False, True, True),
             ("TENSOR_MATCH", tmod.zeros(1), True, False, False),
             ("TENSOR_MATCH", tmod.zeros(1), False, True, False),
             ("GLOBAL_STATE", None, True, False, False), ("SHAPE_ENV", None, False, False, False),
             ("ID_MATCH", None, True, False, True)]
    return [types.SimpleNamespace(name=f"g{i}", has_value=v is not None, value=v, guard_type=t,
                                  derived_guard_types=(), is_global=g, orig_guard=src(u, b))
            for i, (t, v, g, u, b) in enumerate(kinds)]


@pytest.mark.parametrize("name", ["skip_all_guards_unsafe", "skip_guard_on_globals_unsafe",
                                  "skip_guard_on_all_nn_modules_unsafe",
                                  "skip_guard_on_inbuilt_nn_modules_unsafe", "keep_tensor_guards_unsafe",
                                  "keep_portable_guards_unsafe"])
def test_guard_filters_match_torch(name):
    if torch is None:
        pytest.skip("torch not installed")
    got = getattr(mt.compiler, name)(_entries(mt))
    want = getattr(torch.compiler, name)(_entries(torch))
    assert got == want
    if name == "keep_tensor_guards_unsafe":
        assert mt.compiler.keep_tensor_guards_unsafe(_entries(mt), keep_parameters=True) == \
            torch.compiler.keep_tensor_guards_unsafe(_entries(torch), keep_parameters=True)


def test_substitute_in_graph_and_nested_region_and_collectives():
    def original(x, y=1):
        return x + y

    @mt.compiler.substitute_in_graph(original)
    def poly(x, y=1):
        return x + y
    assert poly(1) == 2
    with pytest.raises(TypeError, match="Signature mismatch"):
        mt.compiler.substitute_in_graph(original)(lambda z: z)
    assert mt.compiler.substitute_in_graph(original, skip_signature_check=True)(len) is len

    @mt.compiler.nested_compile_region
    def block(x):
        return x * 3
    assert mt.compiler.nested_compile_region(max_reuse_entries=2)(block) is block
    assert mt.jit(lambda x: block(x) + 1)(mt.ones(2)).tolist() == [4.0, 4.0]
    assert mt.compiler.set_enable_guard_collectives(True) is False
    assert mt.compiler.set_enable_guard_collectives(False) is True
