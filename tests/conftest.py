"""Shared test configuration: hypothesis profiles.

Two profiles, both with ``deadline=None`` (finite-difference checks have no stable
per-example run time):

* ``ci`` (the default): modest ``max_examples`` and a fixed derandomised seed, so the
  default ``pytest`` run is fast and reproducible;
* ``thorough``: many more examples, random seeds, for occasional deep runs.

Select one with the environment variable ``JDYN_HYPOTHESIS_PROFILE``::

    JDYN_HYPOTHESIS_PROFILE=thorough python -m pytest tests
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=3,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    deadline=None,
    max_examples=150,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("JDYN_HYPOTHESIS_PROFILE", "ci"))
