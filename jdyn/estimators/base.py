"""What every map estimator shares: fitting with a regulariser, choosing its strength,
iterating the fitted map and reading invariants off its Jacobians.

Subclasses say how a series becomes (input, target) pairs and states, how a model
output becomes the next state, and what the state Jacobian is
(:class:`~jdyn.estimators.DelayMapEstimator`: a companion matrix;
:class:`~jdyn.estimators.StateMapEstimator`: the model's own Jacobian).

Choosing a strength from noisy data
-----------------------------------
``strength="auto"`` tries a grid and keeps the fit with the lowest one-step error on a
held-out random 20% of the (noisy) pairs. That is the criterion a user without the
truth has, and it is honest about what weight decay and Jacobian penalties achieve;
it cannot see the errors-in-variables bias, which is why ``regulariser="eiv"`` uses
the discrepancy principle instead (:mod:`jdyn.estimators._eiv`).
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod

import numpy as np

from .._validation import as_rng, check_int, check_positive, check_real
from ..analysis.lyapunov import lyapunov_spectrum_from_jacobians
from ..objectives import LogDetTarget, WeightDecay
from ..training import train
from ..training.progress import check_progress, fit_step, procedure
from ._builders import (MODEL_KINDS, REGULARISERS, build_model, build_objective, check_hidden,
                        strengths_for)
from ._eiv import estimate_noise_level, fit_errors_in_variables
from ._fit_plan import eiv_fit_count, eiv_searched, fit_count, plain_label
from ._guard import output_guard
from ._invariants import Invariants, read_invariants
from ._orbits import interleaved_orbits
from ._sklearn import SklearnProtocol, not_fitted_error

__all__ = ["Invariants", "MapEstimator"]

#: ``regulariser="auto"`` switches to errors-in-variables fitting above this estimated
#: observational noise (std as a fraction of the series'): below it the attenuation
#: bias of a plain fit is smaller than its other errors (``docs/noisy-data.md``).
AUTO_NOISE_THRESHOLD = 0.01

class MapEstimator(SklearnProtocol, ABC):
    """Base class of the map estimators; see :class:`DelayMapEstimator` for parameters.

    A scikit-learn estimator (``get_params``, ``set_params``, ``score``, tags; see the
    estimators guide), without importing scikit-learn (:mod:`jdyn.estimators._sklearn`).
    """

    # ----------------------------------------------------------- subclass hooks
    @abstractmethod
    def _prepare(self, data):
        """Validate and standardise ``data``; set ``dt_`` and the scaling; return the series."""

    @abstractmethod
    def _pairs(self, z):
        """Model inputs X (B, n_in) and targets T (B, n_out) from a standardised series."""

    @abstractmethod
    def _states(self, z):
        """Map states (N, D) from a standardised series."""

    @abstractmethod
    def _prediction_shape(self, data, m):
        """Shape of ``m`` predictions of ``data``'s next observations (its own layout)."""

    #: Samples one step of the map advances (a lag-step delay map: its lag).
    _samples_per_step = 1

    @property
    def _step_time(self):
        """Time per map step: exponents are divided by it (per sample without ``dt``)."""
        return (self.dt_ or 1.0) * self._samples_per_step

    @property
    def _logdet_per_step(self):
        """The known ``log|det J|`` per map step (``logdet_target`` is per sample)."""
        if self.logdet_target is None:
            return None
        return float(self.logdet_target) * self._samples_per_step

    def _jacobians_along(self, states):
        """State Jacobians along consecutive data states, as the orbits of the map:
        (N, D, D) for a map stepping one sample, (L, N // L, D, D) for one stepping L
        (the L interleaved sub-series)."""
        return interleaved_orbits(self.state_jacobians(states), self._samples_per_step)

    def states(self, data=None):
        """The fitted map's states along a series, in standardised units.

        ``data``: a series like the one fitted (default: the training series). Returns
        ``(N, D)``: delay windows (most recent first) for a delay map, the standardised
        state vectors for a state map — the points :meth:`step` and
        :meth:`state_jacobians` take, and along which ``lyapunov_spectrum`` works.
        """
        self._check_fitted()
        z = self.train_series_ if data is None else self._prepare_more(data)
        return self._states(z)

    @abstractmethod
    def step(self, states):
        """The fitted map on states (k, D) in standardised units → (k, D)."""

    @abstractmethod
    def state_jacobians(self, states):
        """Jacobians of the fitted map at states (N, D) → (N, D, D)."""

    # ------------------------------------------------------------------ fitting
    def _validate_params(self):
        if self.model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {MODEL_KINDS}; got {self.model!r}")
        check_hidden(self.hidden)
        if self.regulariser not in REGULARISERS:
            raise ValueError(f"regulariser must be one of {REGULARISERS}; got {self.regulariser!r}")
        if self.regulariser == "auto" and self.strength != "auto":
            raise ValueError("regulariser='auto' chooses its strengths itself; strength must "
                             f"be 'auto'; got {self.strength!r} (name a regulariser to set one)")
        strengths_for(self.regulariser, self.strength)
        check_int(self.max_iter, "max_iter", minimum=1)
        check_progress(self.progress)
        if self.bound_outputs not in ("auto", True, False):
            raise ValueError(f"bound_outputs must be 'auto', True or False; got "
                             f"{self.bound_outputs!r}")
        check_positive(self.weight_decay, "weight_decay", allow_zero=True)
        if not 0.0 < check_real(self.validation_fraction, "validation_fraction") < 0.5:
            raise ValueError("validation_fraction must be in (0, 0.5); got "
                             f"{self.validation_fraction!r}")
        if self.regulariser == "logdet" and self.logdet_target is None:
            raise ValueError("regulariser='logdet' needs logdet_target, the known "
                             "log|det J| of the map (e.g. log(0.3) for Hénon)")
        if self.noise_level is not None:
            check_positive(self.noise_level, "noise_level", allow_zero=True)
            if self.noise_level >= 1:
                raise ValueError("noise_level is a fraction of the series' std and must be "
                                 f"below 1; got {self.noise_level!r}")
        if self.logdet_target is not None:
            check_real(self.logdet_target, "logdet_target")
        if self.logdet_average and self.logdet_target is None:
            raise ValueError("logdet_average=True constrains the mean of log|det J| to "
                             "logdet_target, which is not given")

    def fit(self, data, y=None):
        """Fit the map to ``data`` (see the class docstring for accepted types); returns
        self. ``y`` is ignored: the targets are the series' own later values."""
        self._validate_params()
        z = self._prepare(data)
        X, T = self._pairs(z)
        seeds = as_rng(self.rng).integers(2**32, size=2)
        n_val = max(1, int(round(self.validation_fraction * len(X))))
        order = np.random.default_rng(seeds[1]).permutation(len(X))
        split = (order[n_val:], order[:n_val])
        self._guard = output_guard(X, T, int(seeds[1]))
        refit = self.regulariser == "auto" and self._guarded("plain")
        with procedure(*fit_count(self, refit)) as plan:
            self._fit_plain(X, T, split, int(seeds[0]), self._guarded("plain"))
            self.noise_level_ = None
            self.regulariser_ = self._resolve_regulariser(X, T)
            if self.regulariser_ == "eiv":
                plan.revise(plan.count + eiv_fit_count(self), at_most=eiv_searched(self))
                self._fit_eiv(z, X, T)
            elif refit:
                # The guarded fit was meant as the start of a noise-aware fit; as the
                # answer itself it is refitted plainly (the guard bends a plain fit).
                plan.revise(plan.count + 1)
                self._fit_plain(X, T, split, int(seeds[0]), False)
        self.train_series_ = z
        return self

    def _fit_plain(self, X, T, split, seed, guarded):
        """The ordinary fit(s) on the training part of ``split`` = (train, validation)
        indices, one per strength, keeping the one ``_select`` picks."""
        tr, val = split
        plain, strengths = self._plain_stage()
        start = self._warm_start(plain, X[tr], T[tr], seed)
        self.selection_, fits = [], []
        for strength in strengths:
            model = self._new_model(X.shape[1], T.shape[1], seed)
            if start is not None:
                model.params = start
            objective = build_objective(plain, strength, logdet_target=self._logdet_per_step,
                                        companion=self._companion,
                                        logdet_average=self.logdet_average, rng=seed)
            if self.weight_decay and plain != "weight_decay":
                objective = objective + WeightDecay(self.weight_decay)
            if guarded:
                objective = objective + self._guard
            with fit_step(plain_label(self, plain, strength, guarded)):
                result = train(model, objective, X[tr], T[tr], method=self.method,
                               max_iter=self.max_iter, validation=(X[val], T[val]),
                               patience=self.patience, rng=seed, progress=self.progress)
            score = float(np.mean((model(X[val]) - T[val]) ** 2))
            self.selection_.append({"strength": float(strength), "validation_mse": score})
            fits.append((score, float(strength), model, result.history))
        _, self.strength_, self.model_, self.history_ = self._select(fits, len(val))

    def _guarded(self, stage):
        """Whether the ``stage`` ("plain" or "eiv") fit carries the output guard.

        ``bound_outputs="auto"`` guards the errors-in-variables fit of a network, and
        the plain fit that starts it: the joint fit cleans the series onto the
        attractor, so nothing in the data constrains the map off it any more (without
        the guard, Ikeda x free runs diverged or collapsed in every fit), and a guarded
        start gives it a better λ2 (Hénon x at 5% noise: −1.62 against −1.45 over 5
        series). A plain fit that is the answer is left alone: on clean Hénon x the
        guard bent it (λ1 0.398 against 0.420); ``fit`` refits it without when
        "auto" settles on the plain fit. A global polynomial cannot stay in range off
        the data without bending on it.
        """
        if self.bound_outputs == "auto":
            noise_aware = self.regulariser in ("auto", "eiv")
            return noise_aware and self.model != "polynomial"
        return bool(self.bound_outputs)

    def _resolve_regulariser(self, X, T):
        """The regulariser fitted: "auto" becomes "eiv" when the noise (given, or
        estimated from the plain fit) exceeds ``AUTO_NOISE_THRESHOLD``, else "none"."""
        if self.regulariser != "auto":
            return self.regulariser
        sigma = self.noise_level
        if sigma is None:
            sigma = estimate_noise_level(self.model_, X, T)
        self.noise_level_ = float(sigma)
        if sigma <= AUTO_NOISE_THRESHOLD:
            return "none"
        if self.residual:
            warnings.warn(f"noise level {sigma:.3g} calls for the errors-in-variables fit, "
                          "which residual=True cannot use: kept the plain fit (set "
                          "residual=False for the noise-aware fit)", RuntimeWarning, stacklevel=3)
            return "none"
        return "eiv"

    def _plain_stage(self):
        """The regulariser and strengths of the ordinary fit ("eiv", "auto":
        unregularised; it is the warm start and the source of the noise estimate)."""
        if self.regulariser in ("eiv", "auto"):
            return "none", (0.0,)
        return self.regulariser, strengths_for(self.regulariser, self.strength)

    def _select(self, fits, n_val):
        """The fit to keep, from ``(validation_mse, strength, model, history)`` tuples.

        Penalties: the lowest held-out error. A known constraint ("logdet") is true by
        assumption, so its strength is no bias–variance knob; held-out error on noisy
        data only measures how much fitting noise it forbids. We keep the *strongest*
        constraint whose error is within two standard errors of the best (the standard
        error of a mean of squared Gaussian residuals is ``mse·sqrt(2/n_val)``).
        """
        best = min(fits, key=lambda f: f[0])
        if self.regulariser != "logdet":
            return best
        bound = best[0] * (1.0 + 2.0 * np.sqrt(2.0 / n_val))
        return max((f for f in fits if f[0] <= bound), key=lambda f: f[1])

    def _warm_start(self, plain, X, T, seed):
        """Parameters of a data-only fit to start a log-det fit from (or None): from
        random weights some ∂f/∂x vanishes somewhere and log|det J| is −∞ there."""
        if plain != "logdet":
            return None
        model = self._new_model(X.shape[1], T.shape[1], seed)
        with fit_step("least squares, the start of the log-det fits"):
            train(model, build_objective("none", 0.0), X, T, method=self.method,
                  max_iter=self.max_iter, progress=self.progress)
        return model.params

    def _new_model(self, n_in, n_out, seed):
        return build_model(self.model, n_in, n_out, self.hidden, self.activation,
                           degree=self.degree, rng=seed)

    def _fit_eiv(self, z, X, T):
        """Joint refit; a known ``logdet_target`` joins as a (strong) term of weight 1."""
        terms = [WeightDecay(self.weight_decay)] if self.weight_decay else []
        if self._guarded("eiv"):
            terms.append(self._guard)
        sigma = self.noise_level
        if self.logdet_target is not None:
            # The constraint is brought in on the observed pairs before the joint fit:
            # started from a Jacobian far from it, the joint fit can fall into a wrong orbit.
            terms.append(LogDetTarget(self._logdet_per_step, companion=self._companion,
                                      average=self.logdet_average))
            with fit_step("log-det target on the observed pairs, before the joint fit"):
                train(self.model_, build_objective("none", 0.0) + terms[-1], X, T,
                      method=self.method, max_iter=self.max_iter, progress=self.progress)
        out = fit_errors_in_variables(
            self.model_, z, X, T, dim=self._eiv_dim, lag=self._eiv_lag,
            gammas=strengths_for("eiv", self.strength), noise_level=sigma,
            terms=terms or None, max_iter=self.max_iter, progress=self.progress)
        self.strength_ = out.gamma
        self.clean_series_ = self._unscale_series(out.clean)
        self.noise_level_ = out.noise_level
        self.noise_level_stderr_ = out.noise_level_stderr
        self.strength_bracketed_ = out.bracketed
        self.selection_ = out.selection
        self.history_ = out.history

    # --------------------------------------------------------------- prediction
    def predict(self, data):
        """One-step predictions of the next observation for each state of ``data``.

        Returns
        -------
        ndarray, in data units, aligned with ``data[dim·lag:]`` for a delay map (shape
        ``(n − dim·lag,)`` for a series of shape ``(n,)``, ``(n − dim·lag, 1)`` for a
        column ``(n, 1)``) and with ``data[1:]`` for a state map (``(n − 1, d)``).
        """
        predicted, _ = self._one_step(data)
        return self._unscale(predicted).reshape(self._prediction_shape(data, len(predicted)))

    def score(self, X, y=None):
        """Negative mean squared one-step prediction error on the series ``X``, in squared
        data units (higher is better, the scikit-learn convention).

        ``-mean((predict(X) − observed)²)`` over every predicted sample (and coordinate of
        a state map), where ``observed`` is the value the prediction is of: ``X[dim·lag:]``
        for a delay map, ``X[1:]`` for a state map. In a search with
        ``TimeSeriesSplit`` it is the held-out one-step error of each later fold; its first
        ``dim·lag`` samples (one for a state map) serve only as inputs. ``y`` is ignored:
        the targets are the series' own later values.
        """
        predicted, observed = self._one_step(X)
        return -float(np.mean((self._unscale(predicted) - self._unscale(observed)) ** 2))

    def _one_step(self, data):
        """``(predicted, observed)`` next observations (m, n_observed), standardised."""
        self._check_fitted()
        states = self._states(self._prepare_more(data))
        L, obs = self._samples_per_step, self._n_observed
        return self.step(states[:-L])[:, :obs], states[L:, :obs]

    def prediction_error(self, data, horizon=10):
        """Normalised RMS error of h-step free predictions, h = 1 … ``horizon``.

        Starting from every state of ``data`` (the noise-free series when it is known),
        the fitted map is iterated h times and compared with the observed value h steps
        later (a step of a lag-step delay map is ``lag`` samples); errors are divided by
        the series' standard deviation.

        Returns
        -------
        ndarray, shape (horizon,)
        """
        self._check_fitted()
        horizon = check_int(horizon, "horizon", minimum=1)
        z = self._prepare_more(data)
        states = self._states(z)
        L = self._samples_per_step
        n = len(states) - horizon * L
        if n < 1:
            raise ValueError(f"data is too short for horizon={horizon}")
        current, errors = states[:n], np.empty(horizon)
        for h in range(1, horizon + 1):
            current = self.step(current)
            later = states[h * L:h * L + n, :self._n_observed]
            diff = current[:, :self._n_observed] - later
            errors[h - 1] = np.sqrt(np.nanmean(diff ** 2))
        return errors

    # --------------------------------------------------------------- invariants
    def invariants(self, data=None, *, n_steps=5000, n_orbits=4, rng=None,
                   correlation=True, correlation_points=5000):
        """Lyapunov spectra along the data and along free runs, Kaplan–Yorke and the
        correlation dimension of the model's attractor (see :class:`Invariants`).

        data : the series to evaluate Jacobians along (default: the training series).
        n_steps : length of each free-running orbit (a tenth is discarded as transient).
        n_orbits : free runs, started at data states drawn with ``rng``.
        rng : seeds the free runs' starting states; default: the estimator's ``rng``
            (so an estimator built with an integer seed gives the same invariants on
            every call).
        correlation_points : at most this many free-run points for D2 (>= 100).
        """
        self._check_fitted()
        n_steps = check_int(n_steps, "n_steps", minimum=20)
        n_orbits = check_int(n_orbits, "n_orbits", minimum=1)
        correlation_points = check_int(correlation_points, "correlation_points", minimum=100)
        z = self.train_series_ if data is None else self._prepare_more(data)
        states = self._states(z)
        if n_orbits > len(states):
            raise ValueError(f"n_orbits={n_orbits} exceeds the {len(states)} data states "
                             "the free runs start from")
        gen = as_rng(self.rng if rng is None else rng)
        return read_invariants(self, states, n_steps=n_steps, n_orbits=n_orbits, gen=gen,
                               correlation=correlation,
                               correlation_points=correlation_points)

    def lyapunov_spectrum(self, data=None, *, along="data", n_steps=5000, n_orbits=4,
                          rng=None):
        """The Lyapunov spectrum ``along`` "data" (Jacobians at the states of ``data``,
        default the training series) or "free_run" (``n_orbits`` free runs of ``n_steps``
        started from data states drawn with ``rng``; see :meth:`invariants`)."""
        if along not in ("data", "free_run"):
            raise ValueError(f"along must be 'data' or 'free_run'; got {along!r}")
        if along == "free_run":
            return self.invariants(data, n_steps=n_steps, n_orbits=n_orbits, rng=rng,
                                   correlation=False).lyapunov_free
        self._check_fitted()        # along the data needs no free run
        z = self.train_series_ if data is None else self._prepare_more(data)
        return lyapunov_spectrum_from_jacobians(self._jacobians_along(self._states(z)),
                                                dt=self._step_time)

    # ------------------------------------------------------------ conventions
    def _check_fitted(self):
        if not self.__sklearn_is_fitted__():
            raise not_fitted_error(f"this {type(self).__name__} is not fitted yet: call fit "
                                   "first")
