"""``MixtureSameFamily(mixture_distribution, component_distribution)``: a mixture whose components
all belong to one family, batched along the component distribution's rightmost batch dim
(``torch.distributions.mixture_same_family``).

``log_prob`` is a ``logsumexp`` over components; ``mean``/``variance`` use the laws of total
expectation / variance; ``cdf`` is the weighted sum of component cdfs (univariate components);
``sample`` draws a component index per draw and picks that component's sample (no ``rsample``,
as in torch: the discrete choice is not reparameterizable).
"""

from __future__ import annotations

import minitorch_jax as mt

from .._grad_mode import no_grad
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["MixtureSameFamily"]


_MixtureSameFamilyConstraint = constraints.MixtureSameFamilyConstraint


class MixtureSameFamily(Distribution):
    """A mixture of ``K`` components of the same family.

    Args:
        mixture_distribution (Categorical): the mixing weights, batch shape broadcastable with
            ``component_distribution.batch_shape[:-1]``, ``K`` categories.
        component_distribution (Distribution): the components, batch shape ``batch_shape + (K,)``.
        validate_args (bool, optional): check ``log_prob`` values.

    Example::

        >>> mix = Categorical(mt.ones(5))
        >>> comp = Normal(mt.randn(5), mt.rand(5) + 0.5)
        >>> gmm = MixtureSameFamily(mix, comp)   # batch (), event ()
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of "
                             "torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution needs to be an instance of "
                             "torch.distributions.Distribution")
        mdbs = mixture_distribution.batch_shape
        cdbs = component_distribution.batch_shape[:-1]
        for s1, s2 in zip(reversed(tuple(mdbs)), reversed(tuple(cdbs))):
            if s1 != 1 and s2 != 1 and s1 != s2:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mdbs}) is not compatible with "
                                 f"`component_distribution.batch_shape`({cdbs})")
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1] if len(component_distribution.batch_shape) else None
        if km != kc:
            raise ValueError(f"`mixture_distribution component` ({km}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({kc})")
        self._num_component = km
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """A new mixture with batch shape ``batch_shape`` (components and weights expanded)."""
        batch_shape = mt.Size(tuple(batch_shape))
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        new._component_distribution = self._component_distribution.expand(
            tuple(batch_shape) + (self._num_component,))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component = self._num_component
        new._event_ndims = self._event_ndims
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property
    def support(self):
        return _MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mixture_distribution(self):
        """The Categorical mixing distribution."""
        return self._mixture_distribution

    @property
    def component_distribution(self):
        """The batched component distribution."""
        return self._component_distribution

    def _weights(self):
        """Mixing probabilities shaped ``... + (K,) + (1,) * event_ndims``."""
        probs = self._mixture_distribution.probs
        return probs.reshape(tuple(probs.shape) + (1,) * self._event_ndims)

    @property
    def mean(self):
        d = -1 - self._event_ndims
        return (self._weights() * self._component_distribution.mean).sum(d)

    @property
    def variance(self):
        d = -1 - self._event_ndims
        w = self._weights()
        comp_mean = self._component_distribution.mean
        mean_cond_var = (w * self._component_distribution.variance).sum(d)
        var_cond_mean = (w * (comp_mean - self.mean.unsqueeze(d)).pow(2)).sum(d)
        return mean_cond_var + var_cond_mean

    def cdf(self, x):
        x = self._pad(x)
        cdf_x = self._component_distribution.cdf(x)
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        if self._validate_args:
            self._validate_sample(x)
        x = self._pad(x)
        log_prob_x = self._component_distribution.log_prob(x)
        log_mix = mt.log_softmax(self._mixture_distribution.logits, dim=-1)
        return mt.logsumexp(log_prob_x + log_mix, dim=-1)

    def sample(self, sample_shape=()):
        with no_grad():
            n_sample = len(tuple(sample_shape))
            n_batch = len(self.batch_shape)
            gather_dim = n_sample + n_batch
            mix_sample = self._mixture_distribution.sample(sample_shape)
            comp_samples = self._component_distribution.sample(sample_shape)
            pad = (1,) * (n_batch - len(self._mixture_distribution.batch_shape))
            sample_dims = tuple(mix_sample.shape[:n_sample])
            idx = mix_sample.reshape(sample_dims + pad + tuple(mix_sample.shape[n_sample:])
                                     + (1,) * (self._event_ndims + 1))
            idx = idx.expand(tuple(comp_samples.shape[:gather_dim]) + (1,) + tuple(self.event_shape))
            return comp_samples.gather(gather_dim, idx).squeeze(gather_dim)

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def __repr__(self):
        return (f"{type(self).__name__}(\n  {self._mixture_distribution!r},\n"
                f"  {self._component_distribution!r})")
