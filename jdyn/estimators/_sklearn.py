"""The scikit-learn estimator protocol, implemented without importing scikit-learn.

scikit-learn finds what it needs by duck typing: ``get_params``/``set_params`` (``clone``,
grid search), ``score`` (the default scorer of a search), ``__sklearn_is_fitted__``
(``check_is_fitted``) and ``__sklearn_tags__`` (what input an estimator takes). They are
implemented here, so a map estimator is the same scikit-learn estimator in every
install; scikit-learn is imported only inside ``__sklearn_tags__`` (which only
scikit-learn calls) and to raise its ``NotFittedError``.

Why scikit-learn is not a dependency: importing ``sklearn.base`` takes ``import jdyn``
from 0.7 s to 1.5 s (every CLI call pays it) and adds about 55 MB to an install, for a
protocol of five methods. Inheriting ``BaseEstimator`` only where it is importable would
make the class itself depend on what happens to be installed.
"""

from __future__ import annotations

import functools
import inspect

__all__ = ["SklearnProtocol", "not_fitted_error"]

@functools.cache
def _not_fitted_class():
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:
        return ValueError
    return NotFittedError


def not_fitted_error(message):
    """scikit-learn's ``NotFittedError`` (a ValueError) when it is installed, else ValueError."""
    return _not_fitted_class()(message)


class SklearnProtocol:
    """``get_params``/``set_params``, the fitted check, tags and ``repr`` of an estimator
    whose ``__init__`` only stores its keyword arguments as same-named attributes.

    Subclasses set ``_one_d_input`` (X may be 1-D) and define ``_fitted_attribute`` (an
    attribute that exists once fitted).
    """

    _one_d_input = False
    _fitted_attribute = "model_"

    @classmethod
    def _get_param_names(cls):
        """The constructor's parameter names, in signature order."""
        params = inspect.signature(cls.__init__).parameters.values()
        return [p.name for p in params if p.name != "self"]

    def get_params(self, deep=True):
        """The constructor arguments as a dict (scikit-learn convention). ``deep`` makes
        no difference: no parameter is an estimator with parameters of its own."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor arguments by name; returns self. Values are checked at
        ``fit``, as in scikit-learn.

        Raises
        ------
        ValueError
            A name that is no parameter, or a nested ``name__sub`` (no parameter has
            parameters of its own); nothing is set then.
        """
        valid = self._get_param_names()
        for key in params:
            name, nested, _ = key.partition("__")
            if name not in valid:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}; "
                                 f"valid parameters are: {', '.join(valid)}")
            if nested:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}: "
                                 f"{name}={getattr(self, name)!r} has no parameters of its own")
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, self._fitted_attribute)

    def __sklearn_tags__(self):
        """What the estimator takes (scikit-learn >= 1.6): a series X (time along the
        first axis; 1-D too for a delay map), no y (``fit`` and ``score`` ignore it),
        no NaN, no sparse input; deterministic given an ``rng`` seed."""
        from sklearn.utils import InputTags, Tags, TargetTags
        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    input_tags=InputTags(one_d_array=self._one_d_input, two_d_array=True),
                    non_deterministic=self.rng is None, requires_fit=True)

    def _more_tags(self):
        """The tags of :meth:`__sklearn_tags__` for scikit-learn < 1.6."""
        return {"X_types": ["1darray", "2darray"] if self._one_d_input else ["2darray"],
                "requires_y": False, "allow_nan": False,
                "non_deterministic": self.rng is None}

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._get_param_names())
        return f"{type(self).__name__}({args})"
