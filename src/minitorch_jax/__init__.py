"""minitorch_jax: PyTorch's programming model on JAX.

``import minitorch_jax as mt`` (or ``as torch``) gives tensors, define-by-run autograd and the
rest of torch's everyday API, computed with jax.numpy.
"""

from __future__ import annotations

from . import (
    _dtype,
    _pytree,  # noqa: F401  (Tensor is a JAX pytree node)
    autograd,
    func,
    linalg,
    random,
    return_types,
)
from ._control_flow import cond, scan, while_loop
from ._creation import (
    arange,
    as_tensor,
    asarray,
    broadcast_shapes,
    complex,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    polar,
    range,
    scalar_tensor,
    tensor,
    zeros,
    zeros_like,
)
from ._device import device
from ._dtype import (
    bfloat16,
    bool,
    can_cast,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    float,
    float8_e4m3fn,
    float8_e5m2,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from ._grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from ._ops import FUNCTIONS as _FUNCTIONS
from ._precision import get_float32_matmul_precision, set_float32_matmul_precision
from ._predicates import *  # noqa: F403
from ._random import *  # noqa: F403
from ._repr import get_printoptions, set_printoptions
from ._tensor import Size, Tensor, is_tensor

globals().update(_FUNCTIONS)

__version__ = "0.1.0"

from . import (  # noqa: E402  (built on the ops above)
    accelerator,
    amp,
    backends,
    compiler,
    cpu,
    cuda,
    distributed,
    distributions,
    export,
    fft,
    futures,
    hub,
    interop,
    jit,
    library,
    masked,
    mps,
    multiprocessing,
    nn,
    onnx,
    ops,
    optim,
    profiler,
    serialization,
    signal,
    sparse,
    special,
    testing,
    types,
    utils,
    xpu,
)
from ._device import get_default_device, set_default_device  # noqa: E402
from ._ops._layouts import (  # noqa: E402
    jagged,
    layout,
    sparse_bsc,
    sparse_bsr,
    sparse_coo,
    sparse_csc,
    sparse_csr,
    strided,
)
from ._torch_misc import *  # noqa: E402, F403
from .amp import (  # noqa: E402
    autocast,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_available,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
)
from .interop import from_jax  # noqa: E402
from .jit import compile  # noqa: E402
from .serialization import load, save  # noqa: E402
from .sparse._toplevel import *  # noqa: E402, F403
