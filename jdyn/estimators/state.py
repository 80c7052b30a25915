"""Full-state map model of a vector series: ``x[t+1] = f(x[t])``."""

from __future__ import annotations

import numpy as np

from ._data import as_series
from .base import MapEstimator

__all__ = ["StateMapEstimator"]


class StateMapEstimator(MapEstimator):
    """Fit a map to a vector series of full states, and read its invariants.

    ``f: R^d → R^d`` predicts ``x[t+1]`` from ``x[t]`` (or ``x[t+1] − x[t]`` with
    ``residual=True``, the natural form for a flow sampled every ``dt``); the state
    Jacobian is the model's own Jacobian (plus the identity for residual maps), so the
    spectrum has d exponents, per unit time when ``dt`` is known. Each coordinate is
    standardised before fitting; a constant diagonal change of coordinates leaves the
    Lyapunov exponents and ``log|det J|`` unchanged.

    Parameters are those of :class:`DelayMapEstimator` without ``dim`` and ``lag``;
    ``data`` has shape (n, d) (numpy, nested lists, a pandas DataFrame or an xarray
    DataArray with time first).
    """

    _companion = False
    _n_observed = None     # every state coordinate is observed
    _eiv_dim = 1
    _eiv_lag = 1

    def __init__(self, *, model="mlp", hidden=(30,), activation="tanh", degree=3,
                 regulariser="auto", strength="auto", logdet_target=None,
                 logdet_average=False, noise_level=None, weight_decay=0.0,
                 bound_outputs="auto", residual=False, dt=None, method="lbfgs",
                 max_iter=1000, validation_fraction=0.2, patience=50, progress="auto",
                 rng=None):
        self.model, self.hidden, self.activation, self.degree = model, hidden, activation, degree
        self.regulariser, self.strength, self.logdet_target = regulariser, strength, logdet_target
        self.noise_level, self.weight_decay, self.residual = noise_level, weight_decay, residual
        self.bound_outputs, self.logdet_average = bound_outputs, logdet_average
        self.dt, self.method, self.max_iter = dt, method, max_iter
        self.validation_fraction, self.patience = validation_fraction, patience
        self.progress, self.rng = progress, rng

    def _validate_params(self):
        if self.residual and self.regulariser in ("logdet", "eiv"):
            raise ValueError(f"residual=True cannot be combined with regulariser="
                             f"{self.regulariser!r}: that term acts on f, not on x + f")
        super()._validate_params()

    def _prepare(self, data):
        x, self.dt_ = as_series(data, "data", ndim=2, dt=self.dt)
        if x.shape[1] == 0:
            raise ValueError(f"data has 0 feature(s) (shape={x.shape}) while a minimum of 1 "
                             "is required: give at least one state coordinate per column")
        self.n_features_in_ = x.shape[1]
        self.mean_, self.scale_ = x.mean(axis=0), x.std(axis=0)
        return self._standardise(x)

    def _prepare_more(self, data):
        x, _ = as_series(data, "data", ndim=2)
        if x.shape[1] != self.mean_.size:
            raise ValueError(f"X has {x.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.mean_.size} features as input (data has "
                             f"{x.shape[1]} columns; the model was fitted on {self.mean_.size})")
        return self._standardise(x)

    @property
    def _coordinates(self):
        return tuple(f"x{i}" for i in range(self.mean_.size))

    def _prediction_shape(self, data, m):
        return (m, self.mean_.size)

    def _standardise(self, x):
        if x.shape[0] < 12:
            raise ValueError(f"data has {x.shape[0]} samples; need at least 12")
        if np.any(self.scale_ == 0):
            cols = np.flatnonzero(self.scale_ == 0).tolist()
            raise ValueError(f"data column(s) {cols} are constant: there is no dynamics to fit")
        return (x - self.mean_) / self.scale_

    def _unscale(self, z):
        return z * self.scale_ + self.mean_

    _unscale_series = _unscale

    def _pairs(self, z):
        X, T = z[:-1], z[1:]
        return (X, T - X) if self.residual else (X, T)

    def _states(self, z):
        return z

    def step(self, states):
        """The fitted map on standardised states (k, d) → (k, d)."""
        nxt = self.model_(states)
        return nxt + states if self.residual else nxt

    def state_jacobians(self, states):
        """Jacobians at standardised states (N, d) → (N, d, d)."""
        J = self.model_.jacobian(states)
        if self.residual:
            J = J + np.eye(J.shape[-1])
        return J
