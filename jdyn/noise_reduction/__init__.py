"""Nonlinear noise reduction of chaotic series, and autoencoders with prescribed sensitivities.

=====================================  ======================================================
:func:`denoise`                        the cleaned series, by any of :data:`METHODS`
:func:`local_projection_filter`        Grassberger et al. (1993), TISEAN's ``ghkss``
:func:`autoencoder_filter`             an autoencoder trained with J-prop sensitivity terms
:func:`sensitivity_objective`          reconstruction + ``½‖J t − t‖²`` + ``½‖J n‖²``
:func:`build_autoencoder`              the tanh encoder/decoder used by the filter
:func:`local_frames`                   neighbourhood centroids and principal axes
:func:`tangent_spaces`                 local tangent and normal directions
=====================================  ======================================================
"""

from .api import METHODS, denoise
from .autoencoder import (autoencoder_filter, build_autoencoder, fit_autoencoder,
                          sensitivity_objective)
from .local_projection import local_projection_filter, local_projection_sweep
from .tangents import LocalFrames, local_frames, tangent_spaces

__all__ = ["denoise", "METHODS", "local_projection_filter", "local_projection_sweep",
           "autoencoder_filter", "sensitivity_objective", "build_autoencoder",
           "fit_autoencoder", "LocalFrames", "local_frames", "tangent_spaces"]
