"""A model as a composition of layers, with one flat parameter vector.

:class:`Sequential` runs the layers' four passes in order; everything built on top
(``jacobian``, ``jvp``, ``vjp``, the J-prop objectives) uses only these runners, so
a new layer gets all of it by implementing its own four passes.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_batch, as_float_array, as_per_sample, as_rng
from ..layers.base import Layer
from ..layers.workspace import new_group
from ._chain import Chain, fusable

__all__ = ["Sequential", "Tape", "WORKSPACE_MIN_BYTES"]

#: Batches whose widest (B, width) array is smaller than this run without a workspace
#: (glibc serves blocks under its 128 KiB mmap threshold from its free lists).
WORKSPACE_MIN_BYTES = 64 * 1024


@dataclass
class Tape:
    """What the passes leave for the later passes: per-layer inputs and caches.

    ``caches[l]`` comes from the forward pass of layer ``l``; ``rcaches[l]`` from
    its R-forward pass; ``ybars[l]`` is the adjoint layer ``l`` received in the
    backward pass (needed by the R-backward pass).
    """

    caches: list
    rcaches: list = field(default_factory=list)
    ybars: list = field(default_factory=list)
    #: Per-layer keyword arguments of the passes: ``{"ws": workspace}`` for layers
    #: running in a workspace (from :meth:`Sequential.workspace`; the arrays on this
    #: tape are then overwritten by the next evaluation in it), else ``{}``.
    kwargs: list | None = None
    #: The per-layer workspaces of a fused chain's tape (:mod:`jdyn.models._chain`),
    #: whose caches are per chain step.
    ws: list | None = None


class Sequential:
    """A feedforward model ``y = f(x; w)``: layers applied in order.

    Parameters
    ----------
    layers : sequence of Layer
        ``layers[l].n_out`` must equal ``layers[l+1].n_in``.
    rng : None, int or numpy.random.Generator
        Seed for the layers' ``init_params``.
    fused : bool, default True
        Run a stack made only of dense and built-in elementwise layers (an MLP) with the
        fused chain runner (:mod:`jdyn.models._chain`: the same arithmetic without
        per-layer dispatch). ``False`` runs every layer's own pass methods in turn,
        which any stack can; the results agree to rounding.

    Attributes
    ----------
    params : ndarray, shape (n_params,)
        All free parameters, layer after layer, each layer in its own documented
        layout. Setting it copies the new values in (length and finiteness checked).
    n_in, n_out, n_params : int
    fused : bool
        Whether the fused chain runner is in use.
    """

    def __init__(self, layers, rng=None, *, fused=True):
        layers = list(layers)
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError("layers must be a non-empty sequence of jdyn Layer objects")
        for l, (a, b) in enumerate(zip(layers, layers[1:])):
            if a.n_out != b.n_in:
                raise ValueError(
                    f"layers[{l}] has n_out={a.n_out} but layers[{l + 1}] has n_in={b.n_in}")
        self.layers = layers
        self.n_in, self.n_out = layers[0].n_in, layers[-1].n_out
        bounds = np.cumsum([0] + [layer.n_params for layer in layers])
        self._slices = [slice(int(a), int(b)) for a, b in zip(bounds, bounds[1:])]
        self.n_params = int(bounds[-1])
        gen = as_rng(rng)
        self._params = np.concatenate(
            [np.asarray(layer.init_params(gen), dtype=float).ravel() for layer in layers]
            + [np.empty(0)])
        self._views = [self._params[s] for s in self._slices]
        self._free_ws = []
        self._no_kwargs = [{}] * len(layers)
        self._widest = max(max(layer.n_in, layer.n_out) for layer in layers)
        self._want_fused = bool(fused)
        self._chain = self._make_chain()

    def _make_chain(self):
        if not (self._want_fused and all(fusable(layer) for layer in self.layers)):
            return None
        return Chain(self.layers, self._views, self._slices, self.n_params)

    @property
    def fused(self) -> bool:
        return self._chain is not None

    # Workspaces are scratch memory: they are neither pickled nor copied with the model.
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_free_ws"] = []
        state.pop("_chain", None)
        state.pop("_compiled_layout", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        # Pickle copies views as separate arrays: make the per-layer views alias the
        # flat vector again (and accept pickles from before workspaces existed).
        self._views = [self._params[s] for s in self._slices]
        self._free_ws = []
        self._no_kwargs = [{}] * len(self.layers)
        self._widest = max(max(layer.n_in, layer.n_out) for layer in self.layers)
        self._want_fused = state.get("_want_fused", True)
        self._chain = self._make_chain()

    # ----------------------------------------------------------------- parameters
    @property
    def params(self) -> np.ndarray:
        return self._params.copy()

    @params.setter
    def params(self, value):
        value = as_float_array(value, "params", shape=(self.n_params,))
        self._params[...] = value

    def layer_params(self, l: int) -> np.ndarray:
        """A view of layer ``l``'s parameters inside ``params``."""
        return self._views[l]

    # ---------------------------------------------------------------- pass runners
    @contextmanager
    def workspace(self, X=None):
        """Scratch arrays for one evaluation: ``with model.workspace(X) as ws:``.

        Pass ``ws`` to :meth:`forward`; the later passes on that tape find it there.
        Layers that opt in (``uses_workspace``) then write into arrays kept for the next
        evaluation with the same shapes, which saves fresh allocations (and their page
        faults). Everything on such a tape, and every array the runners return, is
        overwritten by the next evaluation in the same workspace: copy what you keep.
        Each ``with`` gets a workspace no one else is using (threads may share a model).

        With a batch ``X`` whose widest layer output is small (under
        ``WORKSPACE_MIN_BYTES``), ``ws`` is None: such arrays come from malloc's free
        lists without page faults, and looking buffers up would cost more than it saves.
        """
        if X is not None and X.shape[0] * self._widest * 8 < WORKSPACE_MIN_BYTES:
            yield None
            return
        try:
            ws = self._free_ws.pop()
        except IndexError:
            ws = new_group(len(self.layers))
        try:
            yield ws
        finally:
            self._free_ws.append(ws)

    def _pass_kwargs(self, ws):
        """Per-layer keyword arguments of the passes: ``{"ws": w}`` for layers that opted
        in, ``{}`` otherwise (a plain user layer's passes do not take the keyword).
        The dicts are shared: never modify them."""
        if ws is None:
            return self._no_kwargs
        return [{"ws": w} if layer.uses_workspace else {} for w, layer in zip(ws, self.layers)]

    def forward(self, X, ws=None):
        """Forward pass. ``X`` (B, n_in), validated → ``(Y (B, n_out), tape)``.

        ``ws``: optional workspace from :meth:`workspace` (see there).
        """
        if self._chain is not None:
            Y, caches = self._chain.forward(X, ws)
            return Y, Tape(caches, ws=ws)
        kwargs = self._pass_kwargs(ws)
        caches = []
        z = X
        for layer, p, kw in zip(self.layers, self._views, kwargs):
            z, cache = layer.forward(p, z, **kw)
            caches.append(cache)
        return z, Tape(caches, kwargs=kwargs)

    def backward(self, tape, ybar, *, need_input=True, need_params=True):
        """Backward pass from output adjoint ``ybar`` (…, B, n_out).

        Returns ``(x̄ (…, B, n_in) or None, gradient (n_params,) or None)`` and
        records each layer's incoming adjoint in ``tape.ybars``.
        """
        if self._chain is not None:
            xbar, grad, tape.ybars = self._chain.backward(tape.caches, tape.ws, ybar,
                                                          need_input, need_params)
            return xbar, grad
        grad = np.empty(self.n_params) if need_params else None
        ybars = [None] * len(self.layers)
        kwargs = tape.kwargs or self._no_kwargs
        for l in range(len(self.layers) - 1, -1, -1):
            ybars[l] = ybar
            ybar, pbar = self.layers[l].backward(
                self._views[l], tape.caches[l], ybar, need_input=need_input or l > 0,
                need_params=need_params, **kwargs[l])
            if need_params:
                grad[self._slices[l]] = pbar
        tape.ybars = ybars
        return ybar, grad

    def rforward(self, tape, rx):
        """R-forward pass with input direction ``rx`` (…, B, n_in) → ``R{y} = J rx``."""
        if self._chain is not None:
            ry, tape.rcaches = self._chain.rforward(tape.caches, tape.ws, rx)
            return ry
        rcaches = []
        kwargs = tape.kwargs or self._no_kwargs
        for layer, p, cache, kw in zip(self.layers, self._views, tape.caches, kwargs):
            rx, rcache = layer.rforward(p, cache, rx, **kw)
            rcaches.append(rcache)
        tape.rcaches = rcaches
        return rx

    def rbackward(self, tape, rybar=None, *, need_input=False):
        """R-backward pass (after forward, backward and R-forward on ``tape``).

        ``rybar`` is ``R{ȳ}`` at the output, ``None`` for zero. Returns
        ``(R{x̄} or None, R{gradient} (n_params,))``.
        """
        if self._chain is not None:
            return self._chain.rbackward(tape.caches, tape.rcaches, tape.ybars, tape.ws,
                                         rybar, need_input)
        # When only the gradient is wanted and the seeds carry a direction axis, the
        # pass carries R{ȳ} summed over the directions: the gradient is that sum anyway
        # and every layer's R{x̄} is affine in R{ȳ} with a direction-free coefficient,
        # so one (B, ·) product replaces K of them (layers.base, "Optional fast paths").
        top = tape.ybars[-1]
        summed = (not need_input and top.ndim == 3 and top.shape[0] > 1
                  and (rybar is None or rybar.ndim == 3))
        if summed and rybar is not None:
            rybar = rybar.sum(axis=0)
        grad = np.empty(self.n_params)
        kwargs = tape.kwargs or self._no_kwargs
        for l in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[l]
            ybar = tape.ybars[l]
            kw = dict(kwargs[l])
            if summed and layer.sums_directions:
                kw["summed"] = True
            elif summed and rybar is not None:
                # A plain layer: put the sum in direction 0 and zeros elsewhere (the
                # same total, by linearity), then sum its R{x̄} over the directions.
                full = np.zeros(ybar.shape[:1] + rybar.shape)
                full[0] = rybar
                rybar = full
            rybar, rpbar = layer.rbackward(
                self._views[l], tape.caches[l], tape.rcaches[l], ybar, rybar,
                need_input=need_input or l > 0, **kw)
            if summed and rybar is not None and rybar.ndim == 3:
                rybar = rybar.sum(axis=0)
            grad[self._slices[l]] = rpbar
        return rybar, grad

    # ------------------------------------------------------------- user interface
    def __call__(self, X) -> np.ndarray:
        """Model output: ``X`` (B, n_in) → (B, n_out)."""
        return self.forward(as_batch(X, "X", self.n_in))[0]

    def jvp(self, X, V) -> np.ndarray:
        """Jacobian-vector products ``J(x_b) v_b``: X, V (B, n_in) → (B, n_out).

        ``V`` may also be one vector (n_in,) shared by all samples.
        """
        X = as_batch(X, "X", self.n_in)
        V = as_per_sample(V, "V", X.shape[0], self.n_in)
        _, tape = self.forward(X)
        return self.rforward(tape, V)

    def vjp(self, X, U) -> np.ndarray:
        """Vector-Jacobian products ``u_bᵀ J(x_b)``: X (B, n_in), U (B, n_out) → (B, n_in).

        ``U`` may also be one vector (n_out,) shared by all samples.
        """
        X = as_batch(X, "X", self.n_in)
        U = as_per_sample(U, "U", X.shape[0], self.n_out)
        _, tape = self.forward(X)
        return self.backward(tape, U, need_params=False)[0]

    def jacobian(self, X) -> np.ndarray:
        """Input–output Jacobians ``∂f/∂x`` at each sample: X (B, n_in) → (B, n_out, n_in).

        One batched pass over min(n_in, n_out) unit directions (reverse mode when
        the output is the smaller side, forward mode otherwise).
        """
        X = as_batch(X, "X", self.n_in)
        B = X.shape[0]
        _, tape = self.forward(X)
        if self.n_out <= self.n_in:
            seeds = unit_seeds(self.n_out, B)
            return self.backward(tape, seeds, need_params=False)[0].transpose(1, 0, 2)
        return self.rforward(tape, unit_seeds(self.n_in, B)).transpose(1, 2, 0)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"{type(self).__name__}([{inner}], n_params={self.n_params})"


def unit_seeds(k: int, B: int) -> np.ndarray:
    """The k unit vectors of R^k as a direction axis: shape (k, B, k), ``[i, b] = e_i``."""
    return np.ascontiguousarray(np.broadcast_to(np.eye(k)[:, None, :], (k, B, k)))
