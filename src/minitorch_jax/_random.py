"""The random number generator (``mt.Generator``, ``mt.manual_seed``) and random creation functions.

A :class:`Generator` holds JAX PRNG state: one threefry key, kept as its raw ``uint32[2]`` data
in the attribute ``_key``. Every draw is ONE cached ``jax.jit`` call per (distribution, static
shape/dtype) that takes the key and returns ``(new_key, sample)``; the generator then rebinds
``_key`` to the new array. State updates are thus functional, so ``mt.jit`` can swap ``_key``
for a traced value, run, and write the final key back.

Splitting in the draw was measured against ``fold_in(key, python_counter)`` (64-element float32
draw, best of 7 x 2000 calls on a busy 2-core CPU): split 28.7-38 us, fold_in with a Python int
34-48 us, fold_in with a jax counter returned from the call 43 us; ``mt.rand(64)`` costs 30.8 us
against 28.7 us for the hand-written jax split draw. Splitting is cheaper and keeps the whole
state in one array, which is what jit capture needs.

Right after seeding ``_key`` is a numpy array (so importing the package does not start a JAX
backend); the first draw turns it into a ``jax.Array``. Both are valid ``jax.jit`` inputs.

The sample values differ from torch's (a different bit generator); distributions, shapes,
dtypes, argument checks and error kinds follow torch.
"""

from __future__ import annotations

import builtins
import math
import operator
import secrets
import weakref

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.export import is_symbolic_dim

from . import _dtype
from ._creation import _finish
from ._device import device as _device_cls
from ._device import is_meta
from ._errors import DTypeError, OpTypeError, ShapeError
from ._grad_mode import STATE
from ._meta import is_meta_array, meta_array
from ._tensor import Tensor, _wrap, _wrote_view

__all__ = sorted([
    "Generator", "bernoulli", "default_generator", "get_rng_state", "initial_seed",
    "manual_seed", "multinomial", "normal", "poisson", "rand", "rand_like", "randint",
    "randint_like", "randn", "randn_like", "randperm", "seed", "set_rng_state",
])

_DEFAULT_SEED = 67280421310721  # torch's default seed for a fresh CPU generator
_MASK64 = (1 << 64) - 1
_STATE_BYTES = 16  # key data (2 x uint32) + initial seed (uint64)


class RandomDTypeError(DTypeError, NotImplementedError):
    """A random kernel asked for a dtype it has no implementation for (torch: NotImplementedError)."""


# torch's scalar-type names, used in its "not implemented for 'Long'" messages
_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _tname(np_dtype) -> str:
    return _TORCH_NAMES[_dtype.from_np(np_dtype).name]


# ----- the generator ---------------------------------------------------------------------------
_LIVE: weakref.WeakSet = weakref.WeakSet()


def live_generators() -> list:
    """Every Generator still alive (for jit state capture, which must thread their keys)."""
    return list(_LIVE)


def _seed_key(seed: int) -> np.ndarray:
    # numpy here, so that importing the package never starts a JAX backend (data-loader workers
    # fork from a process that imported it); draws turn it into a jax array (see _jax_key)
    return np.array([seed >> 32, seed & 0xFFFFFFFF], dtype=np.uint32)


def _jax_key(gen):
    """``gen``'s key as a jax array: compiled samplers then see one argument kind on every call
    (a numpy key would give each of them a second cache entry, i.e. a second compile)."""
    k = gen._key
    if isinstance(k, np.ndarray):
        k = gen._key = jnp.asarray(k)
    return k


class Generator:
    """A random number generator with explicit, functional JAX state (``torch.Generator``).

    Args:
        device: the device whose tensors it makes (recorded as ``.device``; samples are made
            on JAX's default device and moved by the creation functions' ``device=``).

    Example::

        >>> g = mt.Generator().manual_seed(0)
        >>> mt.rand(3, generator=g)
    """

    def __init__(self, device="cpu"):
        self.device = _device_cls(device)
        self._seed = _DEFAULT_SEED
        self._key = _seed_key(_DEFAULT_SEED)
        _LIVE.add(self)

    def _set_key(self, key) -> None:
        if not is_meta_array(key):  # an op on meta tensors draws nothing: the state stays as it was
            self._k = key

    _key = property(operator.attrgetter("_k"), _set_key, doc="The JAX key array (the state).")

    def manual_seed(self, seed) -> Generator:
        """Reset the state from ``seed`` (an int in [-2**63, 2**64); negatives wrap). Returns self."""
        seed = builtins.int(seed)
        if seed < -(1 << 63) or seed > _MASK64:
            raise ValueError(
                f"manual_seed(): seed must be within the range [-0x8000_0000_0000_0000, "
                f"0xffff_ffff_ffff_ffff], got {seed}")
        seed &= _MASK64
        self._seed = seed
        self._key = _seed_key(seed)
        return self

    def seed(self) -> int:
        """Seed from a non-deterministic source (the OS) and return the chosen seed."""
        s = secrets.randbits(64)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self) -> Tensor:
        """The state as a uint8 tensor (16 bytes: key data, then the initial seed)."""
        key = np.asarray(self._key, dtype=np.uint32).astype("<u4")
        seed = np.array([self._seed], dtype="<u8")
        return _wrap(jnp.asarray(np.concatenate([key.view(np.uint8), seed.view(np.uint8)])))

    def set_state(self, new_state) -> Generator:
        """Restore a state returned by :meth:`get_state` (exactly). Returns self."""
        if not isinstance(new_state, Tensor):
            raise OpTypeError(f"set_state(): expected a uint8 Tensor (ByteTensor), but got "
                              f"{type(new_state).__name__}")
        if new_state.dtype is not _dtype.uint8:
            raise OpTypeError(f"set_state(): RNG state must be a uint8 Tensor (ByteTensor), got "
                              f"dtype {new_state.dtype}")
        raw = np.asarray(new_state._data).reshape(-1)
        if raw.size != _STATE_BYTES:
            raise ShapeError(f"set_state(): expected a generator state of {_STATE_BYTES} bytes "
                             f"but found the input RNG state size to be {raw.size}")
        raw = np.ascontiguousarray(raw, dtype=np.uint8)
        self._key = raw[:8].view("<u4").astype(np.uint32)
        self._seed = builtins.int(raw[8:].view("<u8")[0])
        return self

    def __repr__(self) -> str:
        return f"<minitorch_jax.Generator device={self.device} initial_seed={self._seed}>"


default_generator = Generator()


def manual_seed(seed) -> Generator:
    """Seed the default generator (``mt.default_generator``); returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator's state from :func:`get_rng_state`'s result."""
    default_generator.set_state(new_state)


def resolve(generator, name: str) -> Generator:
    """``generator`` if given (checked), else the default generator."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise OpTypeError(f"{name}(): generator must be a minitorch_jax.Generator, got "
                          f"{type(generator).__name__}")
    return generator


# ----- samplers: f(key, *static, *params) on jax arrays, run inside one cached jit -----------
def _acc(dt):
    """The dtype to compute in: float32 for half types and integers, else ``dt`` (real part)."""
    if dt == jnp.float64 or dt == jnp.complex128:
        return jnp.dtype(jnp.float64)
    return jnp.dtype(jnp.float32)


def _uniform01(key, shape, dt):
    if jnp.issubdtype(dt, jnp.complexfloating):
        kr, ki = jax.random.split(key)
        r = _acc(dt)
        return lax.complex(jax.random.uniform(kr, shape, r), jax.random.uniform(ki, shape, r))
    return jax.random.uniform(key, shape, dt)


def _s_uniform(key, shape, dt, lo, hi):
    a = _acc(dt)
    lo, hi = lax.convert_element_type(lo, a), lax.convert_element_type(hi, a)
    if _is_complex(dt):
        u = _uniform01(key, shape, dt)  # torch: real and imaginary parts each uniform on [from, to)
        return lax.complex(lo + (hi - lo) * u.real, lo + (hi - lo) * u.imag).astype(dt)
    return (lo + (hi - lo) * jax.random.uniform(key, shape, a)).astype(dt)


def _is_complex(dt) -> builtins.bool:
    return jnp.issubdtype(dt, jnp.complexfloating)


def _s_normal(key, shape, dt, mean, std):
    a = _acc(dt)
    z = jax.random.normal(key, shape, dt if _is_complex(dt) else a)
    return (lax.convert_element_type(mean, a) + lax.convert_element_type(std, a) * z).astype(dt)


def _s_randint(key, shape, dt, lo, hi):
    return jax.random.randint(key, shape, lo, hi, jnp.int64).astype(dt)


def _s_randperm(key, n, dt):
    return jax.random.permutation(key, jnp.arange(n, dtype=jnp.int64)).astype(dt)


def _s_bernoulli(key, shape, dt, p):
    a = _acc(dt)
    return (jax.random.uniform(key, shape, a) < lax.convert_element_type(p, a)).astype(dt)


def _s_bernoulli_t(key, shape, dt, probs):
    try:
        bshape = jnp.broadcast_shapes(shape, probs.shape)
    except ValueError:
        bshape = None
    if bshape != tuple(shape):
        raise ShapeError(f"bernoulli(): probabilities of shape {list(probs.shape)} cannot be "
                         f"broadcast to the output shape {list(shape)}")
    a = jnp.float64 if probs.dtype == jnp.float64 else jnp.float32
    pa = probs.astype(a)
    out = (jax.random.uniform(key, shape, a) < pa).astype(dt)
    return out, ~jnp.all((pa >= 0) & (pa <= 1))


def _s_normal_t(key, dt, mean, std):
    shape = jnp.broadcast_shapes(jnp.shape(mean), jnp.shape(std))
    a = _acc(dt)
    z = jax.random.normal(key, shape, a)
    std = lax.convert_element_type(std, a)
    out = (lax.convert_element_type(mean, a) + std * z).astype(dt)
    return out, jnp.any(std < 0)


def _s_multinomial(key, n, replacement, w):
    a = jnp.float64 if w.dtype == jnp.float64 else jnp.float32
    w = w.astype(a)
    logits = jnp.log(w)
    if replacement:
        batch = w.shape[:-1]
        idx = jax.random.categorical(key, logits, axis=-1, shape=(n, *batch))
        idx = jnp.moveaxis(idx, 0, -1)
    else:
        # Gumbel top-k: the k largest of log(w) + Gumbel noise are a draw without replacement
        g = jax.random.gumbel(key, w.shape, a)
        idx = lax.top_k(logits + g, n)[1]
    bad_value = ~jnp.all(jnp.isfinite(w) & (w >= 0))
    bad_sum = jnp.any(jnp.sum(w, axis=-1) <= 0)
    code = jnp.where(bad_value, 1, jnp.where(bad_sum, 2, 0))
    return idx.astype(jnp.int64), code


def _s_poisson(key, rates):
    a = jnp.float64 if rates.dtype == jnp.float64 else jnp.float32
    lam = rates.astype(a)
    ok = jnp.all(lam >= 0)
    out = jax.random.poisson(key, jnp.where(lam >= 0, lam, 0), rates.shape, dtype=jnp.int64)
    return out.astype(rates.dtype), ~ok


def _s_exponential(key, shape, dt, lambd):
    a = _acc(dt)
    return (jax.random.exponential(key, shape, a) / lax.convert_element_type(lambd, a)).astype(dt)


def _s_geometric(key, shape, dt, p):
    a = jnp.float64 if dt == jnp.float64 or jnp.issubdtype(dt, jnp.integer) else jnp.float32
    u = jax.random.uniform(key, shape, a)
    return (jnp.floor(jnp.log1p(-u) / jnp.log1p(-lax.convert_element_type(p, a))) + 1).astype(dt)


def _s_cauchy(key, shape, dt, median, sigma):
    a = _acc(dt)
    c = jax.random.cauchy(key, shape, a)
    return (lax.convert_element_type(median, a) + lax.convert_element_type(sigma, a) * c).astype(dt)


def _s_log_normal(key, shape, dt, mean, std):
    return jnp.exp(_s_normal(key, shape, _acc(dt), mean, std)).astype(dt)


_SAMPLERS = {
    "rand": _uniform01,
    "randn": lambda key, shape, dt: jax.random.normal(key, shape, dt),
    "uniform": _s_uniform, "normal": _s_normal, "randint": _s_randint, "randperm": _s_randperm,
    "bernoulli": _s_bernoulli, "bernoulli_t": _s_bernoulli_t, "normal_t": _s_normal_t,
    "multinomial": _s_multinomial, "poisson": _s_poisson, "exponential": _s_exponential,
    "geometric": _s_geometric, "cauchy": _s_cauchy, "log_normal": _s_log_normal,
}

_CACHE: dict = {}


def _compile(kind: str, static: tuple):
    sampler = _SAMPLERS[kind]

    def run(raw_key, *params):
        key, sub = jax.random.split(jax.random.wrap_key_data(raw_key, impl="threefry2x32"))
        return jax.random.key_data(key), sampler(sub, *static, *params)

    f = _CACHE[(kind, static)] = jax.jit(run, inline=True)
    return f


# Elementwise samplers whose static part is (shape, dtype) and whose parameters are scalars draw
# in fixed-size chunks: chunk i holds the samples of fold_in(key, i). One compiled chunk sampler
# per (kind, dtype) then serves every shape - building a model with many layer shapes would
# otherwise compile a sampler per shape - and inside mt.jit the same chunks come from one vmap,
# so a compiled function draws exactly what the eager code draws.
_BUCKETED = frozenset({"rand", "randn", "uniform", "normal", "randint", "bernoulli", "exponential",
                       "geometric", "cauchy", "log_normal"})
_CHUNK = 4096
_CHUNKERS: dict = {}


def _split_raw(raw_key):
    key, sub = jax.random.split(jax.random.wrap_key_data(raw_key, impl="threefry2x32"))
    return jax.random.key_data(key), jax.random.key_data(sub)


_SPLIT = jax.jit(_split_raw, inline=True)


def _chunker(kind: str, dt):
    """``f(sub_key, i, *params) -> chunk i`` (``_CHUNK`` samples), jitted once per kind/dtype."""
    f = _CHUNKERS.get((kind, dt))
    if f is None:
        sampler = _SAMPLERS[kind]

        def chunk(raw, i, *params):
            k = jax.random.fold_in(jax.random.wrap_key_data(raw, impl="threefry2x32"), i)
            return sampler(k, (_CHUNK,), dt, *params)
        f = _CHUNKERS[(kind, dt)] = (chunk, jax.jit(chunk, inline=True))
    return f


def _chunked_draw(gen, kind, shape, dt, params):
    gen._key, sub = _SPLIT(_jax_key(gen))
    if any(map(is_symbolic_dim, shape)):  # a dynamic size (inside an export trace): one direct draw
        return _SAMPLERS[kind](jax.random.wrap_key_data(sub, impl="threefry2x32"), shape, dt, *params)
    n = math.prod(shape)
    m = max(1, -(-n // _CHUNK))
    raw_fn, jitted = _chunker(kind, dt)
    traced = isinstance(sub, jax.core.Tracer) or any(isinstance(p, jax.core.Tracer) for p in params)
    if traced:
        if m == 1:
            flat = jitted(sub, np.int32(0), *params)
        else:
            flat = jax.vmap(lambda i: raw_fn(sub, i, *params))(jnp.arange(m, dtype=jnp.int32)).reshape(-1)
        return flat[:n].reshape(shape)
    if _not_host(sub):  # on an accelerator: one cached program per chunk count and shape
        key = (kind, dt, m, tuple(shape))
        f = _CHUNKERS.get(key)
        if f is None:
            def many(raw, *ps):
                flat = jax.vmap(lambda i: raw_fn(raw, i, *ps))(jnp.arange(m, dtype=jnp.int32)).reshape(-1)
                return flat[:n].reshape(shape)
            f = _CHUNKERS[key] = jax.jit(many)
        return f(sub, *params)
    parts = [np.asarray(jitted(sub, np.int32(i), *params)) for i in range(m)]
    flat = parts[0] if m == 1 else np.concatenate(parts)
    return jnp.asarray(flat[:n].reshape(shape))  # made on the host: no program compiled per shape


def bernoulli_mask(key, p_keep, shape):
    """A boolean mask, True with probability ``p_keep``, from a typed threefry ``key`` (inside
    kernels: dropout). The bits come from an RBG key derived from it - XLA's RngBitGenerator,
    several times cheaper to compile than threefry for large masks."""
    d = jax.random.key_data(key)
    rbg = jax.random.wrap_key_data(jnp.concatenate([d, d ^ jnp.uint32(0x9E3779B9)]), impl="rbg")
    return jax.random.bernoulli(rbg, p_keep, shape)


def draw(gen: Generator, kind: str, static: tuple, *params):
    """Draw from ``gen``: one cached jitted call; ``gen._key`` is rebound to the new key.

    ``static`` (shapes, dtypes, counts) selects the compiled function; ``params`` (scalars or
    jax arrays) are traced inputs, so new parameter values never recompile. Elementwise kinds
    are drawn in chunks (see ``_BUCKETED``), the same way eagerly and inside ``mt.jit``.
    """
    if kind in _BUCKETED:
        return _chunked_draw(gen, kind, static[0], static[1], params)
    f = _CACHE.get((kind, static)) or _compile(kind, static)
    gen._key, out = f(_jax_key(gen), *params)
    return out


def _not_host(arr) -> builtins.bool:
    try:
        return next(iter(arr.devices())).platform != "cpu"
    except Exception:
        return True


def check_flag(flag, exc: Exception) -> None:
    """Raise ``exc`` if a data-dependent check failed (skipped while jax traces, and for meta tensors:
    no value yet)."""
    if is_meta_array(flag):
        return
    try:
        bad = builtins.bool(flag)
    except jax.errors.ConcretizationTypeError:
        return
    if bad:
        raise exc


def attach_zero_grad(op_name: str, out: Tensor, *inputs) -> Tensor:
    """torch's convention for sampling ops: inputs that require grad get a zero gradient.

    Outside autograd this returns ``out`` unchanged (no extra dispatch).
    """
    if STATE.grad and any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        from ._ops._registry import REGISTRY
        return REGISTRY[op_name].call(out, *inputs)
    return out


# ----- argument parsing ------------------------------------------------------------------------
def _size(size, name: str) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:  # a dynamic size (x.shape[0] inside mt.jit.trace(dynamic_batch=True)/mt.export) stays symbolic
        shape = tuple(s if is_symbolic_dim(s) else operator.index(s) for s in size)
    except TypeError:
        raise OpTypeError(f"{name}(): argument 'size' must be tuple of ints, but got "
                          f"{tuple(size)!r}") from None
    for s in shape:
        if not is_symbolic_dim(s) and s < 0:
            raise ShapeError(f"{name}(): Trying to create tensor with negative dimension {s}: "
                             f"{list(shape)}")
    return shape


def _float_dtype(dtype, name: str, kernel: str, complex_ok: bool = True) -> np.dtype:
    dt = _dtype.get_default_dtype().np if dtype is None else _dtype.to_np(dtype)
    if not (_dtype.is_floating(dt) or (complex_ok and dt.kind == "c")):
        raise RandomDTypeError(f"{name}(): \"{kernel}\" not implemented for '{_tname(dt)}' "
                               f"(dtype {_dtype.from_np(dt)}); use a floating point dtype")
    return dt


def _done(arr, device, requires_grad, out):
    t = _wrap(arr)
    if out is not None:
        if not isinstance(out, Tensor):
            raise OpTypeError(f"out= must be a Tensor, got {type(out).__name__}")
        out._data = arr.astype(out._data.dtype)
        out._version += 1
        _wrote_view(out, "out=")
        return out
    return _finish(t, device, requires_grad)


def _num(v, name: str, what: str):
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise OpTypeError(f"{name}(): {what} must be a number, got a tensor of shape "
                              f"{list(v.shape)}")
        return v.item()
    if isinstance(v, np.generic):
        return v.item()
    return v


# ----- creation functions ----------------------------------------------------------------------
def rand(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad: builtins.bool = False, pin_memory: builtins.bool = False) -> Tensor:
    """Uniform samples on ``[0, 1)`` with the given size (``rand(2, 3)`` or ``rand((2, 3))``).

    Args:
        size: ints or one sequence of ints (also ``size=`` as a keyword).
        generator: the :class:`Generator` to draw from (default: ``mt.default_generator``).
        dtype: a floating point or complex dtype (default: the default dtype, float32).
        device, requires_grad: as in torch.

    Example::

        >>> mt.manual_seed(0); x = mt.rand(2, 3)
    """
    return _shaped("rand", "check_uniform_bounds", args, size, generator, out, dtype, device,
                   requires_grad)


def randn(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad: builtins.bool = False, pin_memory: builtins.bool = False) -> Tensor:
    """Standard normal samples with the given size; arguments as :func:`rand`.

    Complex dtypes give real and imaginary parts each with variance 1/2, as in torch.
    """
    return _shaped("randn", "normal_kernel_cpu", args, size, generator, out, dtype, device,
                   requires_grad)


def _shaped(kind, kernel, args, size, generator, out, dtype, device, requires_grad):
    if size is not None:
        if args:
            raise OpTypeError(f"{kind}(): got size both positionally and as a keyword")
        args = (size,)
    shape = _size(args, kind)
    dt = _float_dtype(dtype, kind, kernel)
    if out is None and is_meta(device):  # a shape and a dtype: no draw (the generator does not advance)
        return _done(meta_array(shape, dt), None, requires_grad, None)
    arr = draw(resolve(generator, kind), kind, (shape, dt))
    return _done(arr, device, requires_grad, out)


def _int_bounds(lo: int, hi: int, dt: np.dtype, name: str) -> None:
    if lo >= hi:
        raise ShapeError(f"{name}(): random_ expects 'from' to be less than 'to', but got "
                         f"from={lo} >= to={hi}")
    if dt.kind in "iub":
        info = (0, 1) if dt.kind == "b" else (np.iinfo(dt).min, np.iinfo(dt).max)
        if lo < info[0]:
            raise ShapeError(f"{name}(): from={lo} is out of bounds for {_dtype.from_np(dt)}")
        if hi - 1 > info[1]:
            raise ShapeError(f"{name}(): to - 1 = {hi - 1} is out of bounds for "
                             f"{_dtype.from_np(dt)}")
    elif lo < -(1 << 63) or hi > (1 << 63):
        raise ShapeError(f"{name}(): bounds [{lo}, {hi}) do not fit in int64")


def randint(*args, size=None, low=None, high=None, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad: builtins.bool = False,
            pin_memory: builtins.bool = False) -> Tensor:
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or ``randint(low, high, size)``.

    Args:
        low: lowest value (default 0). high: one above the highest value.
        size: a tuple of ints (required, as in torch).
        dtype: default int64; float dtypes hold integer values.

    Example::

        >>> mt.randint(3, 10, (2, 2))
    """
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if size is None:
        raise OpTypeError("randint(): missing the required argument 'size' (a tuple of ints)")
    if not isinstance(size, (tuple, list)):
        raise OpTypeError(f"randint(): argument 'size' must be tuple of ints, not "
                          f"{type(size).__name__}")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise OpTypeError(f"randint(): expected (high, size) or (low, high, size), got {len(args)} "
                          "positional arguments before size")
    if high is None:
        raise OpTypeError("randint(): missing the required argument 'high'")
    low = 0 if low is None else low
    lo, hi = (operator.index(_num(v, "randint", n)) for v, n in ((low, "low"), (high, "high")))
    shape = _size((size,), "randint")
    dt = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    _int_bounds(lo, hi, dt, "randint")
    arr = draw(resolve(generator, "randint"), "randint", (shape, dt), lo, hi)
    return _done(arr, device, requires_grad, out)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad: builtins.bool = False, pin_memory: builtins.bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 by default)."""
    n = operator.index(_num(n, "randperm", "n"))
    if n < 0:
        raise ShapeError(f"randperm(): Trying to create tensor with negative dimension {n}: [{n}]")
    dt = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    arr = draw(resolve(generator, "randperm"), "randperm", (n, dt))
    return _done(arr, device, requires_grad, out)


def _check_std(std, name="normal"):
    if std < 0:
        raise ShapeError(f"{name}(): normal expects std >= 0.0, but found std {std}")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory: builtins.bool = False,
           requires_grad: builtins.bool = False) -> Tensor:
    """Normal samples: ``normal(mean, std, size)`` (numbers) or with tensor ``mean`` and/or ``std``.

    With tensors, each element has its own mean/std (broadcast together) and the result has the
    tensors' (promoted, floating) dtype. Gradients with respect to ``mean``/``std`` are zero, as
    in torch (this is not a reparameterised sample).

    Example::

        >>> mt.normal(mt.zeros(3), 2.0)   # shape (3,)
        >>> mt.normal(0.0, 1.0, (2, 2))
    """
    gen = resolve(generator, "normal")
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise OpTypeError("normal(): with numbers for mean and std, a size is required "
                              "(normal(mean, std, size))")
        mean, std = builtins.float(_num(mean, "normal", "mean")), builtins.float(
            _num(std, "normal", "std"))
        _check_std(std)
        shape = _size((size,) if isinstance(size, (tuple, list)) else (size,), "normal")
        dt = _float_dtype(dtype, "normal", "normal_kernel_cpu", complex_ok=False)
        return _done(draw(gen, "normal", (shape, dt), mean, std), device, requires_grad, out)
    if size is not None:
        raise OpTypeError("normal(): size is only accepted when mean and std are numbers")
    parts = []
    for v in (mean, std):
        if isinstance(v, Tensor):
            if not _dtype.is_floating(v._data.dtype):
                raise RandomDTypeError(f"normal(): \"normal_kernel_cpu\" not implemented for "
                                       f"'{_tname(v._data.dtype)}' (mean/std must be floating)")
            parts.append(v._data)
        else:
            parts.append(builtins.float(_num(v, "normal", "mean/std")))
    if not isinstance(std, Tensor):
        _check_std(parts[1])
    dt = _dtype.result_type_of(parts) if dtype is None else _dtype.to_np(dtype)
    try:
        arr, bad = draw(gen, "normal_t", (dt,), *parts)
    except ValueError:
        shapes = [list(p.shape) if hasattr(p, "shape") else p for p in parts]
        raise ShapeError(f"normal(): mean and std must broadcast together, got shapes "
                         f"{shapes[0]} and {shapes[1]}") from None
    if isinstance(std, Tensor):
        check_flag(bad, ShapeError("normal(): normal expects all elements of std >= 0.0"))
    res = _done(arr, device, requires_grad, out)
    return attach_zero_grad("_normal_nograd", res, mean, std)


def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples: ``out[i] ~ Bernoulli(input[i])``, or ``Bernoulli(p)`` when ``p`` is given.

    The result has ``input``'s shape and dtype. Probabilities must lie in ``[0, 1]``
    (RuntimeError otherwise, as torch).
    """
    if not isinstance(input, Tensor):
        raise OpTypeError(f"bernoulli(): argument 'input' must be Tensor, not "
                          f"{type(input).__name__}")
    gen = resolve(generator, "bernoulli")
    shape, dt = input._data.shape, input._data.dtype
    if p is None:
        if not _dtype.is_floating(dt):
            raise RandomDTypeError(f"bernoulli(): \"bernoulli_tensor_cpu_p_\" not implemented for "
                                   f"'{_tname(dt)}' (probabilities must be floating)")
        arr = bernoulli_draw(gen, shape, dt, input._data, "bernoulli")
    else:
        arr = bernoulli_draw(gen, shape, dt, p, "bernoulli")
    res = _done(arr, None, False, out)
    return attach_zero_grad("_bernoulli_nograd", res, input)


def bernoulli_draw(gen, shape, dt, p, name):
    """Bernoulli samples of ``shape``/``dt`` with probability ``p`` (a number or an array)."""
    if isinstance(p, Tensor):
        p = p._data
    if isinstance(p, jax.Array | np.ndarray):
        if not _dtype.is_floating(p.dtype):
            raise RandomDTypeError(f"{name}(): probabilities must be floating, got "
                                   f"'{_tname(p.dtype)}'")
        arr, bad = draw(gen, "bernoulli_t", (tuple(shape), dt), p)
        check_flag(bad, ShapeError(f"{name}(): Expected p_in >= 0 && p_in <= 1 to be true, "
                                   "but got false (a probability lies outside [0, 1])"))
        return arr
    p = builtins.float(_num(p, name, "p"))
    if not 0 <= p <= 1:
        raise ShapeError(f"{name}(): bernoulli_ expects p to be in [0, 1], but got p={p}")
    return draw(gen, "bernoulli", (tuple(shape), dt), p)


def multinomial(input: Tensor, num_samples: int, replacement: builtins.bool = False, *,
                generator=None, out=None) -> Tensor:
    """Indices sampled from the categorical distribution(s) with (unnormalised) weights ``input``.

    Args:
        input: weights, 1-D ``(K,)`` or 2-D ``(N, K)``; non-negative, finite, positive sum.
        num_samples: samples per row; without replacement at most ``K``.
        replacement: draw with replacement.

    Returns:
        int64 indices of shape ``(num_samples,)`` or ``(N, num_samples)``.
    """
    if not isinstance(input, Tensor):
        raise OpTypeError(f"multinomial(): argument 'input' must be Tensor, not "
                          f"{type(input).__name__}")
    gen = resolve(generator, "multinomial")
    w = input._data
    n = operator.index(num_samples)
    if not _dtype.is_floating(w.dtype):
        raise ShapeError(f"multinomial(): multinomial only supports floating-point dtypes for "
                         f"input, got: {_tname(w.dtype)}")
    if w.ndim not in (1, 2):
        raise ShapeError(f"multinomial(): prob_dist must be 1 or 2 dim, got shape {list(w.shape)}")
    if n <= 0:
        raise ShapeError(f"multinomial(): cannot sample n_sample <= 0 samples (got {n})")
    k = w.shape[-1]
    if not replacement and n > k:
        raise ShapeError(f"multinomial(): cannot sample n_sample > prob_dist.size(-1) samples "
                         f"without replacement (n_sample={n}, categories={k})")
    idx, code = draw(gen, "multinomial", (n, builtins.bool(replacement)), w)
    if w.size:
        check_flag(code == 1, ShapeError(
            "multinomial(): probability tensor contains either `inf`, `nan` or element < 0"))
        check_flag(code == 2, ShapeError(
            "multinomial(): invalid multinomial distribution (sum of probabilities <= 0)"))
    return _done(idx, None, False, out)


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson samples with rates ``input`` (same shape and floating dtype); rates must be >= 0."""
    if not isinstance(input, Tensor):
        raise OpTypeError(f"poisson(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not _dtype.is_floating(input._data.dtype):
        raise RandomDTypeError(f"poisson(): \"poisson_cpu\" not implemented for "
                               f"'{_tname(input._data.dtype)}'")
    arr, bad = draw(resolve(generator, "poisson"), "poisson", (), input._data)
    check_flag(bad, ShapeError("poisson(): invalid Poisson rate, expected rate to be non-negative"))
    return attach_zero_grad("_poisson_nograd", _wrap(arr), input)


def _like_dtype(input, dtype, name):
    if not isinstance(input, Tensor):
        raise OpTypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input._data.dtype if dtype is None else _dtype.to_np(dtype)


def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad: builtins.bool = False, memory_format=None) -> Tensor:
    """:func:`rand` with the shape (and by default dtype) of ``input``."""
    dt = _like_dtype(input, dtype, "rand_like")
    return rand(input._data.shape, generator=generator, dtype=dt, device=device,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad: builtins.bool = False, memory_format=None) -> Tensor:
    """:func:`randn` with the shape (and by default dtype) of ``input``."""
    dt = _like_dtype(input, dtype, "randn_like")
    return randn(input._data.shape, generator=generator, dtype=dt, device=device,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad: builtins.bool = False, memory_format=None) -> Tensor:
    """:func:`randint` with the shape (and by default dtype) of ``input``:
    ``randint_like(x, high)`` or ``randint_like(x, low, high)``."""
    if high is None:
        low, high = 0, low
    dt = _like_dtype(input, dtype, "randint_like")
    return randint(low, high, tuple(input._data.shape), generator=generator, dtype=dt,
                   device=device, requires_grad=requires_grad)
