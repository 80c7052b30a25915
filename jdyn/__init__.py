"""jdyn: exact Jacobian-aware training (J-prop) and dynamical invariants of chaotic series."""

__version__ = "0.1.0"
