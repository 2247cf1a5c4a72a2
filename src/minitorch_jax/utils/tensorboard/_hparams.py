"""The three hparams-plugin summaries ``add_hparams`` writes: the experiment (hyperparameter and
metric declarations), the session start info (this run's values) and the session end info.

Messages (``tensorboard/plugins/hparams``): ``HParamsPluginData`` (version=1, experiment=2,
session_start_info=3, session_end_info=4), ``Experiment`` (hparam_infos=4, metric_infos=5),
``HParamInfo`` (name=1, type=4, domain_discrete=5), ``MetricInfo`` (name=1: ``MetricName``
group=1, tag=2), ``SessionStartInfo`` (hparams=1: map to ``google.protobuf.Value``),
``SessionEndInfo`` (status=1); ``Value``: number_value=2, string_value=3, bool_value=4;
``ListValue``: values=1.
"""

from __future__ import annotations

import numpy as np

from ..._tensor import Tensor
from . import _messages as m
from ._convert import make_np
from ._proto import f_double, f_message, f_string, f_varint

__all__ = ["hparams"]

_FLOAT64, _STRING, _BOOL = 3, 1, 2
_STATUS_SUCCESS = 1


def _value(v) -> bytes:
    if isinstance(v, str):
        return f_string(3, v, always=True)
    return f_double(2, float(v), always=True)  # numbers (bools included, as torch)


def _summary(tag: str, plugin_data: bytes) -> bytes:
    return m.summary([m.summary_value(tag, metadata=m.summary_metadata("hparams", plugin_data))])


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None) -> tuple[bytes, bytes, bytes]:
    """Encoded ``(experiment, session_start_info, session_end_info)`` summaries.

    Values may be int, float (stored as numbers; a bool is an int here, as in torch), str, or a
    one-element Tensor; ``None`` values are skipped. ``hparam_domain_discrete`` maps a name to the
    list of values it can take (same type as its value).
    """
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, "
                        f"got {type(hparam_domain_discrete)}")
    for k, dom in domains.items():
        if k not in hparam_dict or not isinstance(dom, list) or \
                not all(isinstance(d, type(hparam_dict[k])) for d in dom):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                            f"hparam_dict[{k}].")
    infos, entries = [], []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, (int, float)):
            kind, val = _FLOAT64, f_double(2, float(v), always=True)
        elif isinstance(v, str):
            kind, val = _STRING, f_string(3, v, always=True)
        elif isinstance(v, Tensor) or isinstance(v, np.ndarray):
            kind, val = _FLOAT64, f_double(2, float(make_np(v, "add_hparams").reshape(-1)[0]), always=True)
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor "
                             f"(add_hparams: {k!r} is {type(v)})")
        entries.append(f_message(1, f_string(1, k) + f_message(2, val)))
        info = f_string(1, k) + f_varint(4, kind)
        if k in domains:
            info += f_message(5, b"".join(f_message(1, _value(d)) for d in domains[k]))
        infos.append(info)
    metrics = [f_message(1, f_string(2, k)) for k in metric_dict]
    experiment = b"".join(f_message(4, i) for i in infos) + b"".join(f_message(5, x) for x in metrics)
    exp = _summary("_hparams_/experiment", f_message(2, experiment))
    ssi = _summary("_hparams_/session_start_info", f_message(3, b"".join(entries)))
    sei = _summary("_hparams_/session_end_info", f_message(4, f_varint(1, _STATUS_SUCCESS)))
    return exp, ssi, sei
