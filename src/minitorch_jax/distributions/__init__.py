"""``mt.distributions``: probability distributions with torch.distributions's API.

Parameters are mt Tensors or numbers; ``rsample`` is reparameterized (gradients reach the parameters
through mt autograd; Gamma, Chi2, Beta, Dirichlet and StudentT use jax's implicit gamma gradient);
sampling draws from mt's global generator (``mt.manual_seed`` makes it reproducible, and inside
``mt.jit`` each call draws new values). Sample values differ from torch's (another bit generator);
densities, entropies, moments and KL divergences match torch.

Not implemented here: ContinuousBernoulli, FisherSnedecor, GeneralizedPareto, HalfCauchy, HalfNormal,
InverseGamma, Kumaraswamy, LKJCholesky, LogisticNormal, LowRankMultivariateNormal, Multinomial,
NegativeBinomial, Pareto, VonMises, Weibull, Wishart, and transforms with event_dim > 0.
"""

from __future__ import annotations

from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Chi2, Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .studentT import StudentT
from .transformed_distribution import LogNormal, TransformedDistribution
from .transforms import (
                         AffineTransform,
                         ComposeTransform,
                         ExpTransform,
                         PowerTransform,
                         SigmoidTransform,
                         TanhTransform,
                         Transform,
                         identity_transform,
)
from .uniform import Uniform

__all__ = [
    "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ComposeTransform",
    "Dirichlet", "Distribution", "ExpTransform", "Exponential", "Gamma", "Geometric", "Gumbel", "Independent",
    "Laplace", "LogNormal", "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson", "PowerTransform",
    "SigmoidTransform", "StudentT", "TanhTransform", "Transform", "TransformedDistribution", "Uniform",
    "constraints", "identity_transform", "kl_divergence", "register_kl", "transforms",
]
