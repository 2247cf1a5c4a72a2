"""mt.cuda: every torch.cuda name behaves as on torch's CPU-only build here, and the GPU code paths
(run with fake JAX GPU devices patched into ``_cuda_base._list``) do the real thing."""

import re
import sys
import time
import warnings

import jax
import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax import _cuda_base, _cuda_memory
from tests.oracle import torch

cpu_only = pytest.mark.skipif(mt.cuda.is_available(), reason="compares with torch's CPU-only build")


def _outcome(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", fn()
        except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
            return "raise", e


def _u8(T):
    return T.zeros(16, dtype=T.uint8)


# calls whose outcome (value, or exception type + torch's message as a prefix) must equal torch's
SAME = {
    "is_available": lambda c, T: c.is_available(),
    "device_count": lambda c, T: c.device_count(),
    "is_initialized": lambda c, T: c.is_initialized(),
    "init": lambda c, T: c.init(),
    "current_device": lambda c, T: c.current_device(),
    "get_device_name": lambda c, T: c.get_device_name(),
    "get_device_properties": lambda c, T: c.get_device_properties(0),
    "get_device_capability": lambda c, T: c.get_device_capability(0),
    "get_arch_list": lambda c, T: c.get_arch_list(),
    "get_gencode_flags": lambda c, T: c.get_gencode_flags(),
    "is_bf16_supported": lambda c, T: c.is_bf16_supported(),
    "is_bf16_supported(False)": lambda c, T: c.is_bf16_supported(False),
    "is_tf32_supported": lambda c, T: c.is_tf32_supported(),
    "has_half": lambda c, T: c.has_half,
    "has_magma": lambda c, T: c.has_magma,
    "set_device(-1)": lambda c, T: c.set_device(-1),
    "manual_seed": lambda c, T: c.manual_seed(1),
    "manual_seed_all": lambda c, T: c.manual_seed_all(1),
    "seed_all": lambda c, T: c.seed_all(),
    "initial_seed": lambda c, T: c.initial_seed(),
    "get_rng_state": lambda c, T: c.get_rng_state(),
    "get_rng_state(cuda:1)": lambda c, T: c.get_rng_state("cuda:1"),
    "set_rng_state": lambda c, T: c.set_rng_state(_u8(T)),
    "get_rng_state_all": lambda c, T: c.get_rng_state_all(),
    "set_rng_state_all": lambda c, T: c.set_rng_state_all([_u8(T)]),
    "default_generators": lambda c, T: c.default_generators,
    "empty_cache": lambda c, T: c.empty_cache(),
    "ipc_collect": lambda c, T: c.ipc_collect(),
    "memory_allocated": lambda c, T: c.memory_allocated(),
    "max_memory_allocated": lambda c, T: c.max_memory_allocated(),
    "memory_reserved": lambda c, T: c.memory_reserved(),
    "max_memory_reserved": lambda c, T: c.max_memory_reserved(),
    "memory_cached": lambda c, T: c.memory_cached(),
    "max_memory_cached": lambda c, T: c.max_memory_cached(),
    "memory_stats": lambda c, T: c.memory_stats(),
    "memory_stats_as_nested_dict": lambda c, T: c.memory_stats_as_nested_dict(0),
    "host_memory_stats": lambda c, T: c.host_memory_stats(),
    "host_memory_stats_as_nested_dict": lambda c, T: c.host_memory_stats_as_nested_dict(),
    "mem_get_info": lambda c, T: c.mem_get_info(0),
    "set_per_process_memory_fraction": lambda c, T: c.set_per_process_memory_fraction(0.5),
    "get_per_process_memory_fraction": lambda c, T: c.get_per_process_memory_fraction(),
    "caching_allocator_alloc": lambda c, T: c.caching_allocator_alloc(10),
    "caching_allocator_enable": lambda c, T: c.caching_allocator_enable(False),
    "use_mem_pool": lambda c, T: c.use_mem_pool(None).__enter__(),
    "device_memory_used": lambda c, T: c.device_memory_used(),
    "memory_usage": lambda c, T: c.memory_usage(),
    "utilization": lambda c, T: c.utilization(),
    "temperature": lambda c, T: c.temperature(),
    "power_draw": lambda c, T: c.power_draw(),
    "clock_rate": lambda c, T: c.clock_rate(),
    "list_gpu_processes": lambda c, T: c.list_gpu_processes(0),
    "can_device_access_peer": lambda c, T: c.can_device_access_peer(0, 1),
    "cudart": lambda c, T: c.cudart(),
    "current_blas_handle": lambda c, T: c.current_blas_handle(),
    "current_solver_handle": lambda c, T: c.current_solver_handle(),
    "get_sync_debug_mode": lambda c, T: c.get_sync_debug_mode(),
    "set_sync_debug_mode": lambda c, T: c.set_sync_debug_mode(1),
    "current_stream": lambda c, T: c.current_stream(),
    "default_stream": lambda c, T: c.default_stream(),
    "get_stream_from_external": lambda c, T: c.get_stream_from_external(1),
    "Stream": lambda c, T: c.Stream(),
    "set_stream(None)": lambda c, T: c.set_stream(None),
    "stream(None)": lambda c, T: type(c.stream(None)).__name__,
    "with stream(None)": lambda c, T: c.stream(None).__enter__(),
    "StreamContext(None)": lambda c, T: c.StreamContext(None).__exit__(None, None, None),
    "device(None).idx": lambda c, T: c.device(None).idx,
    "device(-1)": lambda c, T: (c.device(-1).idx, c.device(-1).__enter__(),
                                c.device(-1).__exit__(None, None, None)),
    "device_of(cpu)": lambda c, T: c.device_of(T.zeros(2)).idx,
    "device_of(cpu) enter/exit": lambda c, T: c.device_of(T.zeros(2)).__exit__(None, None, None),
    "FloatTensor": lambda c, T: c.FloatTensor(2),
    "BoolTensor": lambda c, T: c.BoolTensor([True]),
    "isinstance FloatTensor": lambda c, T: isinstance(T.zeros(2), c.FloatTensor),
    "FloatStorage": lambda c, T: c.FloatStorage(2),
    "ComplexDoubleStorage": lambda c, T: c.ComplexDoubleStorage(),
    "cudaStatus": lambda c, T: (c.cudaStatus.SUCCESS, c.cudaStatus.ERROR_NOT_READY),
    "DeferredCudaCallError": lambda c, T: str(c.DeferredCudaCallError("x")),
    "OutOfMemoryError": lambda c, T: issubclass(c.OutOfMemoryError, RuntimeError),
    "CudaError is RuntimeError": lambda c, T: issubclass(c.CudaError, RuntimeError),
    "nvtx.range_push": lambda c, T: c.nvtx.range_push("a"),
    "nvtx.mark": lambda c, T: c.nvtx.mark("a"),
    "nvtx.range": lambda c, T: c.nvtx.range("a").__enter__(),
    "GreenContext()": lambda c, T: type(c.GreenContext()).__name__,
}

# torch raises an exception of the same type, with a message naming its internal dummy classes
SAME_TYPE = {
    "Event": lambda c, T: c.Event(enable_timing=True),
    "CUDAGraph": lambda c, T: c.CUDAGraph(),
    "graph": lambda c, T: c.graph(None),
    "graph_pool_handle": lambda c, T: c.graph_pool_handle(),
    "make_graphed_callables": lambda c, T: c.make_graphed_callables(lambda x: x, (T.zeros(2),)),
    "is_current_stream_capturing": lambda c, T: c.is_current_stream_capturing(),
    "MemPool": lambda c, T: c.MemPool(),
}

# torch's CPU build fails here by accident (an AttributeError on torch._C, a KeyError ...): mt gives
# a deliberate answer instead
NO_CUDA = (AssertionError, "Torch not compiled with CUDA enabled")
OURS = {
    "set_device(0)": (lambda: mt.cuda.set_device(0), NO_CUDA),
    "ExternalStream": (lambda: mt.cuda.ExternalStream(1), NO_CUDA),
    "caching_allocator_delete": (lambda: mt.cuda.caching_allocator_delete(0), NO_CUDA),
    "caching_allocator_disabled": (lambda: mt.cuda.caching_allocator_disabled().__enter__(), NO_CUDA),
    "get_allocator_backend": (lambda: mt.cuda.get_allocator_backend(), NO_CUDA),
    "memory_summary": (lambda: mt.cuda.memory_summary(), NO_CUDA),
    "memory_snapshot": (lambda: mt.cuda.memory_snapshot(), NO_CUDA),
    "reset_peak_memory_stats": (lambda: mt.cuda.reset_peak_memory_stats(), NO_CUDA),
    "reset_max_memory_allocated": (lambda: mt.cuda.reset_max_memory_allocated(), NO_CUDA),
    "reset_max_memory_cached": (lambda: mt.cuda.reset_max_memory_cached(), NO_CUDA),
    "reset_accumulated_memory_stats": (lambda: mt.cuda.reset_accumulated_memory_stats(), NO_CUDA),
    "reset_peak_host_memory_stats": (lambda: mt.cuda.reset_peak_host_memory_stats(), NO_CUDA),
    "reset_accumulated_host_memory_stats": (lambda: mt.cuda.reset_accumulated_host_memory_stats(), NO_CUDA),
    "change_current_allocator": (lambda: mt.cuda.change_current_allocator(None),
                                 (RuntimeError, "minitorch_jax.cuda.change_current_allocator")),
    "CUDAPluggableAllocator": (lambda: mt.cuda.CUDAPluggableAllocator("a.so", "f", "g"),
                               (RuntimeError, "minitorch_jax.cuda.CUDAPluggableAllocator")),
    "jiterator": (lambda: mt.cuda.jiterator._create_jit_fn("T f(T x) { return x; }"),
                  (RuntimeError, "mt.jit")),
    "check_error(0)": (lambda: mt.cuda.check_error(0), None),
    "check_error(2)": (lambda: mt.cuda.check_error(2), (mt.cuda.CudaError, r"out of memory \(2\)")),
    "synchronize": (lambda: mt.cuda.synchronize(), None),  # waits for queued work on any platform
}


def _norm(msg: str) -> str:
    return str(msg).replace("minitorch_jax", "torch")


@cpu_only
@pytest.mark.parametrize("name", list(SAME))
def test_cpu_build_parity(name):
    fn = SAME[name]
    t_kind, t_val = _outcome(lambda: fn(torch.cuda, torch))
    m_kind, m_val = _outcome(lambda: fn(mt.cuda, mt))
    assert m_kind == t_kind, (name, t_val, m_val)
    if t_kind == "raise":
        assert isinstance(m_val, type(t_val)), (name, t_val, m_val)
        assert _norm(m_val).startswith(_norm(t_val)), (name, str(t_val), str(m_val))
    else:
        assert m_val == t_val, (name, t_val, m_val)


@cpu_only
@pytest.mark.parametrize("name", list(SAME_TYPE))
def test_cpu_build_same_exception_type(name):
    fn = SAME_TYPE[name]
    t_kind, t_val = _outcome(lambda: fn(torch.cuda, torch))
    m_kind, m_val = _outcome(lambda: fn(mt.cuda, mt))
    assert t_kind == m_kind == "raise" and isinstance(m_val, type(t_val)), (name, t_val, m_val)


@cpu_only
@pytest.mark.parametrize("name", list(OURS))
def test_cpu_build_deliberate(name):
    fn, expect = OURS[name]
    if expect is None:
        assert fn() is None
        return
    with pytest.raises(expect[0], match=expect[1]), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        fn()


@cpu_only
def test_cpu_names_complete_and_errors_readable():
    missing = [n for n in torch.cuda.__all__ if not hasattr(mt.cuda, n)]
    assert set(missing) <= {"nccl", "profiler", "sparse", "tunable"}, missing
    assert set(mt.cuda.__all__) <= set(dir(mt.cuda))
    with pytest.raises(RuntimeError, match="No CUDA GPUs are available") as e:
        mt.cuda.get_device_capability()
    assert isinstance(e.value, AssertionError) and "cpu" in str(e.value)
    with pytest.warns(FutureWarning, match="renamed to `minitorch_jax.cuda.memory_reserved`"):
        mt.cuda.memory_cached()


# ----- GPU code paths with fake devices -------------------------------------------------------------
class FakeGpu:
    platform = "gpu"
    device_kind = "NVIDIA H100 80GB HBM3"
    compute_capability = "9.0"
    core_count = 132

    def __init__(self, i):
        self.id = i
        self.stats = {"bytes_in_use": 1000, "peak_bytes_in_use": 5000, "pool_bytes": 8000,
                      "peak_pool_bytes": 9000, "bytes_limit": 64000, "num_allocs": 3,
                      "largest_alloc_size": 512}

    def memory_stats(self):
        return dict(self.stats)


@pytest.fixture
def gpus(monkeypatch):
    devs = [FakeGpu(0), FakeGpu(1)]
    monkeypatch.setattr(_cuda_base, "_list", lambda: devs)
    monkeypatch.setattr(_cuda_memory, "_BASE", {})
    monkeypatch.setattr(_cuda_memory, "_FRACTION", {})
    return devs


def test_gpu_queries(gpus):
    c = mt.cuda
    assert c.is_available() and c.is_initialized() and c.device_count() == 2 and c.current_device() == 0
    c.init()
    assert c.get_device_name(1) == "NVIDIA H100 80GB HBM3"
    p = c.get_device_properties("cuda:1")
    assert (p.name, p.major, p.minor, p.multi_processor_count, p.total_memory) == (
        "NVIDIA H100 80GB HBM3", 9, 0, 132, 64000)
    assert "major=9" in repr(p)
    assert c.get_device_capability() == (9, 0)
    assert c.get_arch_list() == ["sm_90"]
    assert c.get_gencode_flags() == "-gencode compute=compute_90,code=sm_90"
    assert c.is_bf16_supported() and c.is_bf16_supported(False) and c.is_tf32_supported()
    assert c.can_device_access_peer(0, 1) and not c.can_device_access_peer(1, 1)
    with pytest.raises(AssertionError, match="Invalid peer device id"):
        c.can_device_access_peer(0, 5)
    with pytest.raises(RuntimeError, match="invalid device ordinal 7"):
        c.get_device_name(7)
    with pytest.raises(ValueError, match="Expected a cuda device"):
        c.memory_allocated("cpu")
    with pytest.raises(RuntimeError, match="do not expose|does not expose"):
        c.current_blas_handle()
    gpus[0].compute_capability = "7.5"
    assert not c.is_tf32_supported() and not c.is_bf16_supported(False) and c.is_bf16_supported()


def test_gpu_memory_stats(gpus, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # (a real GPU host may have it: import fails)
    c = mt.cuda
    assert c.memory_allocated() == 1000 and c.max_memory_allocated() == 5000
    assert c.memory_reserved(0) == 8000 and c.max_memory_reserved(0) == 9000
    s = c.memory_stats()
    assert s["allocated_bytes.all.current"] == 1000 and s["allocation.all.current"] == 3
    assert c.memory_stats_as_nested_dict()["reserved_bytes"]["all"]["peak"] == 9000
    assert c.mem_get_info() == (63000, 64000)
    c.reset_peak_memory_stats()
    assert c.max_memory_allocated() == 1000 and c.max_memory_reserved() == 8000
    gpus[0].stats["bytes_in_use"] = 3000  # below the old all-time peak: seen at query time
    assert c.max_memory_allocated() == 3000
    gpus[0].stats.update(bytes_in_use=100, peak_bytes_in_use=7000)  # a new all-time peak
    assert c.max_memory_allocated() == 7000 and c.max_memory_allocated(1) == 5000
    text = c.memory_summary()
    assert "Allocated memory" in text and "device ID 0" in text
    assert c.memory_snapshot() == [] and c.host_memory_stats() == {}
    c.empty_cache()
    c.ipc_collect()
    c.reset_accumulated_memory_stats()
    assert 0.0 < c.get_per_process_memory_fraction() <= 1.0
    c.set_per_process_memory_fraction(0.25, 1)
    assert c.get_per_process_memory_fraction(1) == 0.25
    with pytest.raises(ValueError, match="Invalid fraction value: 1.5. Allowed range: 0~1"):
        c.set_per_process_memory_fraction(1.5)
    with pytest.raises(TypeError, match="must be `float`"):
        c.set_per_process_memory_fraction(1)
    assert c.get_allocator_backend() in ("native", "cudaMallocAsync")
    with pytest.raises(RuntimeError, match="JAX owns the GPU allocator"):
        c.caching_allocator_alloc(10)
    with pytest.raises(RuntimeError, match="memory pools are not supported"):
        c.MemPool()
    with c.caching_allocator_disabled():
        pass
    assert c.device_memory_used() == 100  # XLA's bytes_in_use without pynvml
    with pytest.raises(ModuleNotFoundError, match="nvidia-ml-py"):
        c.utilization()


def test_gpu_streams_events_graphs(gpus):
    c = mt.cuda
    d = c.default_stream()
    assert d.cuda_stream == 0 and c.current_stream() == d and d.device == mt.device("cuda:0")
    s = c.Stream(priority=-1)
    assert s.cuda_stream != 0 and s.priority == -1 and s.query()
    with c.stream(s) as got:
        assert got is None and c.current_stream() is s
        with c.StreamContext(c.Stream(1)):
            assert c.current_stream() is s and c.current_stream(1).device_index == 1
    assert c.current_stream() == d
    c.set_stream(s)
    assert c.current_stream() is s
    c.set_stream(d)
    ext = c.ExternalStream(0x1234)
    assert ext.cuda_stream == 0x1234 and c.get_stream_from_external(7, 1).device_index == 1
    s.wait_stream(d)
    s.synchronize()
    c.synchronize()
    e0, e1 = c.Event(enable_timing=True), c.Event(enable_timing=True)
    e0.record()
    time.sleep(0.01)
    s.record_event(e1)
    e1.synchronize()
    assert e1.query() and e0.elapsed_time(e1) >= 9.0
    with pytest.raises(ValueError, match="enable_timing=True"):
        c.Event().elapsed_time(e1)
    assert not c.is_current_stream_capturing()
    for make in (c.CUDAGraph, lambda: c.graph(None), c.graph_pool_handle):
        with pytest.raises(RuntimeError, match="mt.jit"):
            make()
    f = c.make_graphed_callables(lambda x: x * 2 + 1, (mt.zeros(3),))
    np.testing.assert_allclose(f(mt.ones(3)).numpy(), [3.0, 3.0, 3.0])
    lin = mt.nn.Linear(2, 2)
    g, h = c.make_graphed_callables((lin, lambda x: -x), ((mt.ones(1, 2),), (mt.ones(1),)))
    np.testing.assert_allclose(g(mt.ones(1, 2)).detach().numpy(), lin(mt.ones(1, 2)).detach().numpy(),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="one sample_args tuple per callable"):
        c.make_graphed_callables((lin, lin), ((mt.ones(1, 2),),))


def test_gpu_rng_routes_to_mt_generator(gpus):
    c = mt.cuda
    assert c.default_generators == (mt.default_generator, mt.default_generator)
    c.manual_seed(5)
    assert c.initial_seed() == 5 == mt.initial_seed()
    state = c.get_rng_state()
    a = mt.rand(3)
    assert len(c.get_rng_state_all()) == 2
    c.set_rng_state(state)
    assert mt.equal(a, mt.rand(3))
    c.set_rng_state_all([state, state])
    assert mt.equal(a, mt.rand(3))
    assert np.array_equal(c.get_rng_state().numpy(), mt.get_rng_state().numpy())


def test_gpu_nvtx_sync_mode_and_legacy_types(gpus):
    c = mt.cuda
    nv = c.nvtx
    n = len(nv.events)
    assert nv.range_push("outer") == 0 and nv.range_push("inner") == 1
    assert nv.range_pop() == 1 and nv.range_pop() == 0 and nv.range_pop() == -1
    rid = nv.range_start("overlap")
    nv.mark("here")
    nv.range_end(rid)

    @mt.jit
    def step(x):
        with nv.range("step {}", 3):
            return x + 1

    np.testing.assert_allclose(step(mt.ones(2)).numpy(), [2.0, 2.0])
    names = [m for _, m in nv.events[n:]]
    assert names[:7] == ["outer", "inner", "inner", "outer", "overlap", "here", "overlap"]
    assert "step 3" in names and not nv.stack
    try:
        c.set_sync_debug_mode("warn")
        assert c.get_sync_debug_mode() == 1 and jax.config.jax_transfer_guard_device_to_host == "log"
        with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`"):
            c.set_sync_debug_mode("loud")
    finally:
        c.set_sync_debug_mode(0)
    assert c.get_sync_debug_mode() == 0
    cpu = mt.zeros(2, device="cpu")  # (a GPU host's default device is the GPU)
    assert not isinstance(cpu, c.FloatTensor) and isinstance(cpu, mt.FloatTensor)
    assert c.FloatTensor.dtype == mt.float32 and c.BoolTensor.is_cuda
    assert issubclass(c.LongStorage, mt.LongStorage) and c.LongStorage.dtype == mt.int64
    with pytest.raises(RuntimeError, match="green contexts"):
        c.GreenContext.create(4)
    e = c.CudaError(700)
    assert isinstance(e, RuntimeError) and str(e) == "an illegal memory access was encountered (700)"
    dev_of = c.device_of(mt.zeros(1, device="cpu"))
    assert dev_of.idx == -1 and re.search("device_of", type(dev_of).__name__)
