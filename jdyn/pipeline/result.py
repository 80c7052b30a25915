"""The answer of :func:`jdyn.analyse`: identified invariants with honest uncertainties,
every member behind them, and every choice made on the way."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Analysis", "Embedding"]


@dataclass(frozen=True)
class Embedding:
    """dim, lag : int (lag in samples); why : str (the rules that chose them);
    reference_dim : int, the dimension of the ensemble that identifies the system's
    exponents (:mod:`jdyn.pipeline.identify`)."""

    dim: int
    lag: int
    why: str
    reference_dim: int


@dataclass(frozen=True)
class Analysis:
    """Invariants of a scalar series from an ensemble of fitted lag-step delay maps.

    Exponents are per sample, or per unit time when ``dt`` is known. Every σ
    (``*_stderr``) combines the spread across the ensemble's usable members with the
    members' own time-average standard errors: ``sqrt(sd² + median(stderr²))``.

    Attributes
    ----------
    exponents, exponents_stderr : ndarray, shape (k,)
        The identified spectrum (ensemble median) and its σ.
    all_exponents, all_exponents_stderr : ndarray, shape (dim,)
        The whole spectrum of the models.
    spurious : ndarray of bool, shape (dim,)
        Over ``all_exponents``: True where an exponent was not identified as the system's.
    spurious_reason : tuple of str, shape (dim,)
    kaplan_yorke, kaplan_yorke_stderr : float
        From the identified exponents only.
    correlation_dim, correlation_dim_stderr : float
        Of the models' free-running attractors.
    noise_level, noise_level_stderr : float
        Observational noise std as a fraction of the series' std.
    embedding : Embedding
    dt : float or None
    method : dict
        What was fitted and every strength chosen.
    members : tuple of Member
        Every member of the main ensemble (``references``: those of the reference
        ensemble, at ``embedding.reference_dim``).
    warnings : tuple of str
    series : ndarray, shape (n,)
        The analysed series (data units), for the plots.
    """

    exponents: np.ndarray
    exponents_stderr: np.ndarray
    all_exponents: np.ndarray
    all_exponents_stderr: np.ndarray
    spurious: np.ndarray
    spurious_reason: tuple
    kaplan_yorke: float
    kaplan_yorke_stderr: float
    correlation_dim: float
    correlation_dim_stderr: float
    noise_level: float
    noise_level_stderr: float
    embedding: Embedding
    dt: float | None
    method: dict
    members: tuple
    references: tuple
    warnings: tuple
    series: np.ndarray = field(repr=False)

    @property
    def usable_members(self):
        """The members whose invariants were averaged."""
        return tuple(m for m in self.members if m.usable)

    @property
    def unit(self) -> str:
        return "1/sample" if self.dt is None else "1/time unit"

    def summary(self) -> str:
        """A printable table of the invariants, the choices and the members."""
        from .summary import summary_text
        return summary_text(self)

    def to_dataset(self):
        """The analysis as an :class:`xarray.Dataset` with units and long names."""
        from .dataset import analysis_dataset
        return analysis_dataset(self)

    def plot(self, path=None):
        """Exponents with error bars, the series against a free run of the model (data
        units), and the correlation integral with its fit range; a matplotlib Figure
        (also saved to ``path`` if given)."""
        from .plots import analysis_figure
        return analysis_figure(self, path)

    def __str__(self):
        return self.summary()
