"""Delay-map model of a scalar series: ``x[t+lag] = f(x[t], x[t−lag], …)``."""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..embedding import delay_embed
from ._data import as_series
from ._orbits import companion_jacobians
from .base import MapEstimator

__all__ = ["DelayMapEstimator"]


class DelayMapEstimator(MapEstimator):
    """Fit a map to a scalar series through its delay embedding, and read its invariants.

    The model ``f`` predicts ``x[t+lag]`` from ``dim`` delays spaced by ``lag``,
    ``(x[t], x[t−lag], …, x[t−(dim−1)·lag])``: a *lag-step* map (Eckmann, Kamphorst,
    Ruelle & Ciliberto 1986) whose state is that ``dim``-vector and whose Jacobian is
    the ``dim × dim`` companion matrix with ``∇f`` in the first row
    (:func:`jdyn.estimators.companion_jacobians`). The spectrum has ``dim`` exponents,
    reported per sample (per unit time when ``dt`` is known): one map step is ``lag``
    samples. Training uses every sample; along the data, the ``lag`` interleaved
    sub-series are ``lag`` orbits of the map. The series is standardised (one mean,
    one std) before fitting, which leaves every Jacobian and exponent unchanged.

    Parameters
    ----------
    dim, lag : int
        Embedding (see :func:`jdyn.embedding.choose_dim`, :func:`choose_lag`).
    model : {"mlp", "rbf", "higher_order", "polynomial"}
    hidden : int or sequence of int
        Hidden widths, positive (number of centres for "rbf"); ``16`` is ``(16,)``.
    activation : str
        Hidden activation of "mlp" and "higher_order".
    degree : int
        Degree of "polynomial".
    regulariser : {"auto", "none", "weight_decay", "jacobian", "double_backprop", "logdet", "eiv"}
        "auto" (default): the errors-in-variables fit ("eiv") when the observational
        noise (``noise_level``, or estimated from a plain fit) exceeds
        ``AUTO_NOISE_THRESHOLD`` (1%), a plain fit ("none") otherwise; the choice is
        ``regulariser_``. "jacobian" is ½·mean‖∂f/∂x‖²; "logdet" targets
        ``log|det J| = logdet_target`` (a known dissipation rate: for Hénon ``log b``);
        "eiv" is the errors-in-variables joint fit of the model and a clean series
        (:mod:`jdyn.estimators._eiv`). "eiv" and "logdet" act on ``f`` and need
        ``residual=False`` ("auto" keeps the plain fit then, warning).
    strength : float or "auto"
        The regulariser's weight, or "auto": chosen from the noisy data alone (held-out
        one-step error; the discrepancy principle for "eiv").
    logdet_target : float, optional
        Known ``log|det J|`` per sample (used by "logdet", and by "eiv" if given); the
        map's own target over one step of ``lag`` samples is ``lag`` times this.
    logdet_average : bool
        Constrain the *mean* of ``log|det J|`` (the sum of the exponents, per sample:
        a flow's known mean divergence times dt) instead of its value at every state.
    noise_level : float, optional
        Known observational noise std as a fraction of the series' std (as in
        :func:`jdyn.systems.add_observational_noise`); "eiv" estimates it otherwise.
    weight_decay : float
        Weight decay added to every fit besides the regulariser (default 0: none).
    bound_outputs : {"auto", True, False}
        Penalise outputs beyond the training targets' range at points scattered around
        the data (:mod:`jdyn.estimators._guard`), so that free runs stay on the
        attractor; zero on the data itself. "auto": in the errors-in-variables fit of
        every model but "polynomial" (see ``MapEstimator._guarded``).
    residual : bool
        Fit ``x[t+lag] − x[t]`` instead of ``x[t+lag]`` (a residual map, for finely
        sampled flows).
    dt : float, optional
        Sampling interval; exponents are then per unit time. Read from an xarray time
        coordinate or a pandas index when not given.
    method, max_iter, validation_fraction, patience : training options
        (:func:`jdyn.training.train`).
    progress : True, False or "auto"
        Progress lines on stderr once a fit has run 2 s, each fit of the procedure
        labelled "fit k of n: what" ("auto", the default: only when stderr is a
        terminal; :mod:`jdyn.training.progress`).
    rng : None, int or Generator
        Seeds the initial weights, the validation split and the free runs' starts.

    Attributes
    ----------
    model_ : the fitted :class:`jdyn.models.Sequential` (standardised units)
    dim_, lag_ : the embedding as integers
    regulariser_ : the regulariser fitted ("auto" resolved)
    strength_ : the strength used; selection_ : the strengths tried and their scores
    history_ : training history; dt_ : sampling interval or None
    mean_, scale_ : standardisation; noise_level_ : noise level used by "eiv" (fraction)
    noise_level_stderr_ : its block-bootstrap standard error ("eiv" with an estimated level)
    strength_bracketed_ : whether "eiv"'s γ search found the discrepancy crossing
    clean_series_ : the estimated clean series ("eiv" only)
    n_features_in_ : 1 (scikit-learn convention: one scalar series)

    A scikit-learn estimator: ``get_params``/``set_params``, ``score`` (minus the mean
    squared one-step error, :meth:`score`), tags; the series is ``X``, ``y`` is ignored
    (see the estimators guide for grid searches with ``TimeSeriesSplit``).

    Examples
    --------
    >>> import jdyn
    >>> x = jdyn.systems.Henon().trajectory(600, rng=0)[:, 0]
    >>> est = jdyn.DelayMapEstimator(dim=2, hidden=(10,), max_iter=200, rng=0).fit(x)
    >>> est.lyapunov_spectrum(n_steps=500).exponents.shape
    (2,)
    """

    _companion = True
    _n_observed = 1        # the window's first entry is the observation
    _one_d_input = True

    def __init__(self, dim=2, lag=1, *, model="mlp", hidden=(30,), activation="tanh",
                 degree=3, regulariser="auto", strength="auto", logdet_target=None,
                 logdet_average=False, noise_level=None, weight_decay=0.0,
                 bound_outputs="auto", residual=False, dt=None, method="lbfgs",
                 max_iter=1000, validation_fraction=0.2, patience=50, progress="auto",
                 rng=None):
        self.dim, self.lag, self.model, self.hidden = dim, lag, model, hidden
        self.activation, self.degree, self.regulariser = activation, degree, regulariser
        self.strength, self.logdet_target, self.noise_level = strength, logdet_target, noise_level
        self.weight_decay, self.residual, self.dt, self.method = weight_decay, residual, dt, method
        self.bound_outputs, self.logdet_average = bound_outputs, logdet_average
        self.max_iter, self.validation_fraction = max_iter, validation_fraction
        self.patience, self.progress, self.rng = patience, progress, rng

    # ------------------------------------------------------------------- hooks
    @property
    def _eiv_dim(self):
        return self.dim_

    @property
    def _eiv_lag(self):
        return self.lag_

    @property
    def _window(self):
        """Samples one (input, target) pair spans."""
        return self.dim_ * self.lag_ + 1

    @property
    def _samples_per_step(self):
        return self.lag_

    def _validate_params(self):
        # The validated embedding (an embedding choice object counts as its integer).
        self.dim_ = check_int(self.dim, "dim", minimum=1)
        self.lag_ = check_int(self.lag, "lag", minimum=1)
        if self.residual and self.regulariser in ("logdet", "eiv"):
            raise ValueError(f"residual=True cannot be combined with regulariser="
                             f"{self.regulariser!r}: that term acts on f, not on x + f")
        super()._validate_params()

    def _prepare(self, data):
        x, self.dt_ = _scalar_series(data, self.dt)
        self.n_features_in_ = 1
        self.mean_, self.scale_ = float(x.mean()), float(x.std())
        return self._standardise(x)

    def _prepare_more(self, data):
        return self._standardise(_scalar_series(data)[0])

    @property
    def _coordinates(self):
        return tuple("x(t)" if k == 0 else f"x(t-{k * self.lag_})" for k in range(self.dim_))

    def _prediction_shape(self, data, m):
        return (m,) if np.ndim(data) == 1 else (m, 1)

    def _standardise(self, x):
        need = self._window + 10
        if x.shape[0] < need:
            raise ValueError(f"series has {x.shape[0]} samples; dim={self.dim_}, lag={self.lag_} "
                             f"need at least {need}")
        if not self.scale_ > 0 or np.ptp(x) == 0:
            raise ValueError("series is constant: there is no dynamics to fit")
        return (x - self.mean_) / self.scale_

    def _unscale(self, z):
        return z * self.scale_ + self.mean_

    def _unscale_series(self, z):
        return self._unscale(z)

    def _pairs(self, z):
        E = delay_embed(z, self.dim_, self.lag_)
        X, T = E[:-self.lag_], E[self.lag_:, :1]
        if self.residual:
            T = T - X[:, :1]
        return X, T

    def _states(self, z):
        return delay_embed(z, self.dim_, self.lag_)

    def step(self, states):
        """The fitted map on delay vectors (k, dim) of standardised values → (k, dim),
        ``lag`` samples later."""
        nxt = self.model_(states)[:, 0]
        if self.residual:
            nxt = nxt + states[:, 0]
        return np.concatenate([nxt[:, None], states[:, :-1]], axis=1)

    def state_jacobians(self, states):
        """Companion Jacobians at delay vectors (N, dim) → (N, dim, dim)."""
        return companion_jacobians(self.model_.vjp(states, np.ones(1)), self.residual)


def _scalar_series(data, dt=None):
    """``(values (n,), dt)`` of a series given as ``(n,)`` or as one column ``(n, 1)``
    (scikit-learn's X)."""
    x, step = as_series(data, "series", ndim=None, dt=dt)
    if x.ndim == 2 and x.shape[1] == 1:
        return x[:, 0], step
    if x.ndim == 2 and x.shape[1] == 0:
        raise ValueError(f"series has 0 feature(s) (shape={x.shape}) while a minimum of 1 is "
                         "required: a delay map needs the values of one scalar series")
    if x.ndim != 1:
        raise ValueError(f"series must be 1-D (n,) or one column (n, 1); got shape {x.shape}")
    return x, step
