"""From a series to invariants a user can trust: :func:`analyse` and its parts.

``workflow`` (:func:`analyse`, the one call), ``members`` (one fitted model and its invariants),
``ensemble`` (running members in parallel), ``identify`` (which exponents are the
system's), ``result`` (the :class:`Analysis`), ``summary``, ``dataset``, ``plots``
(its three views) and ``report`` (HTML and Markdown files).
"""

from .workflow import MIN_SAMPLES, analyse
from .identify import Identification, identify_exponents
from .members import Member
from .result import Analysis, Embedding

__all__ = ["analyse", "Analysis", "Embedding", "Member", "Identification",
           "identify_exponents", "MIN_SAMPLES"]
