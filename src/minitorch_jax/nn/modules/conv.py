"""Convolution layers: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d`` (torch's arguments, init, repr)."""

from __future__ import annotations

import math

from ... import _creation
from ..._errors import ShapeError
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


def _ntuple(v, n):
    if isinstance(v, (list, tuple)):
        return tuple(v) if len(v) != 1 else tuple(v) * n
    return (v,) * n


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of the convolution layers."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", output_padding=0, device=None, dtype=None):
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        stride = _ntuple(stride, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError("padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but "
                             f"got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, nd)
        self.stride = stride
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, nd)
        self.dilation = _ntuple(dilation, nd)
        self.transposed = self._transposed
        self.output_padding = _ntuple(output_padding, nd)
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(self.padding, str):
            rev = [0, 0] * nd
            if padding == "same":
                for d, k, i in zip(self.dilation, self.kernel_size, range(nd - 1, -1, -1)):
                    total = d * (k - 1)
                    rev[2 * i], rev[2 * i + 1] = total // 2, total - total // 2
            self._reversed_padding_repeated_twice = rev
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(self.padding) for _ in range(2)]
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(_creation.empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_creation.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default init: ``kaiming_uniform_(a=sqrt(5))``, bias ~ U(+-1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_channels(self, input):
        nd = self._nd
        if input.ndim in (nd + 1, nd + 2):
            dim = input.ndim - nd - 1
            if input.shape[dim] != self.in_channels:
                # torch's words (an unbatched input is reported with its batch dim of 1), after the layer
                shape = list(input.shape) if dim == 1 else [1, *input.shape]
                given = "transposed=1" if self._transposed else f"groups={self.groups}"
                raise ShapeError(f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                                 f"kernel_size={self.kernel_size}): Given {given}, weight of size "
                                 f"{list(self.weight.shape)}, expected input{shape} to have "
                                 f"{self.in_channels} channels, but got {input.shape[dim]} channels instead "
                                 f"(input of shape {list(input.shape)})")

    def extra_repr(self) -> str:
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return self._fn(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return self._fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        if input.ndim <= self._nd or input.shape[-self._nd - 1] != self.in_channels:
            self._check_channels(input)
        return self._conv_forward(input, self.weight, self.bias)


_CONV_DOC = """Applies a {nd}D convolution over an input signal of several input planes.

    Args:
        in_channels, out_channels: channels of the input / produced by the convolution.
        kernel_size, stride, dilation: an int or a tuple of {nd} ints.
        padding: an int, a tuple of {nd} ints, ``'valid'`` or ``'same'``.
        groups: blocked connections from input to output channels (``in_channels`` for depthwise).
        bias: learn an additive bias (default True).
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape: input ``(N, C_in, *spatial)`` or ``(C_in, *spatial)``; output ``(N, C_out, *out)``.
    Weight ``(C_out, C_in/groups, *kernel_size)`` ~ kaiming_uniform(a=sqrt(5)); bias ``(C_out,)``.
    """


class Conv1d(_Conv):
    __doc__ = _CONV_DOC.format(nd=1)
    _nd = 1
    _fn = staticmethod(F.conv1d)


class Conv2d(_Conv):
    __doc__ = _CONV_DOC.format(nd=2)
    _nd = 2
    _fn = staticmethod(F.conv2d)


class Conv3d(_Conv):
    __doc__ = _CONV_DOC.format(nd=3)
    _nd = 3
    _fn = staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device=device, dtype=dtype)

    def _output_padding(self, input, output_size):
        """The output_padding giving ``output_size`` (torch's ``_output_padding``)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        lead = 2 if input.ndim == nd + 2 else 1
        output_size = list(output_size)
        if len(output_size) == nd + lead:
            output_size = output_size[lead:]
        if len(output_size) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.ndim}D input, output_size must have {nd} or "
                             f"{nd + lead} elements (got {len(output_size)})")
        mins = [(input.shape[d + lead] - 1) * self.stride[d] - 2 * self.padding[d]
                + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(nd)]
        maxs = [m + s - 1 for m, s in zip(mins, self.stride)]
        for size, lo, hi in zip(output_size, mins, maxs):
            if size < lo or size > hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                                 f"{mins} to {maxs} (for an input of {list(input.shape[lead:])})")
        return tuple(o - m for o, m in zip(output_size, mins))

    def forward(self, input, output_size=None):
        if input.ndim <= self._nd or input.shape[-self._nd - 1] != self.in_channels:
            self._check_channels(input)
        opad = self._output_padding(input, output_size)
        return self._fn(input, self.weight, self.bias, self.stride, self.padding, opad, self.groups,
                        self.dilation)


_CONVT_DOC = """Applies a {nd}D transposed convolution operator over an input of several planes.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias: as Conv{nd}d.
        output_padding: extra size added to one side of each output dim (< stride or dilation).

    ``forward(input, output_size=None)``: ``output_size`` picks the output_padding.
    Weight ``(C_in, C_out/groups, *kernel_size)``; output size per dim
    ``(n-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1``.
    """


class ConvTranspose1d(_ConvTranspose):
    __doc__ = _CONVT_DOC.format(nd=1)
    _nd = 1
    _fn = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    __doc__ = _CONVT_DOC.format(nd=2)
    _nd = 2
    _fn = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    __doc__ = _CONVT_DOC.format(nd=3)
    _nd = 3
    _fn = staticmethod(F.conv_transpose3d)
