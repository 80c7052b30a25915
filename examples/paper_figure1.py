"""Flake & Pearlmutter (NIPS 1999), Figure 1: learning a function from its derivative only.

An MLP with one input, ten tanh hidden units and a linear output is trained by
nonlinear conjugate gradient on 100 points in [−1, 1] with derivative targets
``f'(x) = 4 cos(4x) + 5 cos(10x)`` only (J-prop's Eq. 1 with u = 1). The "unknown"
function ``sin(4x) + ½ sin(10x)`` is never shown to the model, so the learned function
matches it only up to an additive constant: panel (a) shows the function against the
truth, panel (b) the derivative against the target.

Usage::

    python examples/paper_figure1.py figure1.png [--seed 0] [--max-iter 1000] [--init spread]

The hidden units' initial input weights are spread (``N(0, 5²)`` weights, biases
uniform in [−5, 5]) so that their transitions cover [−1, 1], where the target
oscillates with frequency 10; with ``--init default`` (jdyn's ``N(0, 1/fan_in)``)
the fit gets there too but takes several times as many iterations.
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import jdyn  # noqa: E402
from jdyn.objectives import DerivativeTarget  # noqa: E402
from jdyn.training import train  # noqa: E402


def truth(x):
    return np.sin(4 * x) + 0.5 * np.sin(10 * x)


def derivative(x):
    return 4 * np.cos(4 * x) + 5 * np.cos(10 * x)


def spread_init(net, rng, scale=5.0):
    """First-layer weights ~ N(0, scale²) and biases ~ U(−scale, scale) (layout: W then b)."""
    p = net.params
    h = net.sizes[1]
    p[:h] = rng.normal(0.0, scale, h)
    p[h:2 * h] = rng.uniform(-scale, scale, h)
    net.params = p


def run(seed=0, max_iter=1000, init="spread", n_points=100):
    """Train and measure; returns a dict of the figures and the arrays to draw."""
    x = np.linspace(-1.0, 1.0, n_points)[:, None]
    net = jdyn.MLP([1, 10, 1], activation="tanh", rng=seed)
    if init == "spread":
        spread_init(net, np.random.default_rng(seed))
    result = train(net, DerivativeTarget(), x, extras={"dfdx": derivative(x)}, method="cg",
                   max_iter=max_iter, progress=False)
    grid = np.linspace(-1.0, 1.0, 1001)[:, None]
    f, df = net(grid)[:, 0], net.jacobian(grid)[:, 0, 0]
    target_rms = np.sqrt(np.mean(derivative(grid) ** 2))
    train_rms = np.sqrt(2 * np.array(result.history.total)) / target_rms
    reached = np.flatnonzero(train_rms < 0.05)
    offset = f - truth(grid[:, 0])
    return {"net": net, "result": result, "x": x, "grid": grid[:, 0], "f": f, "df": df,
            "iterations": result.n_iter,
            "iterations_to_5pct": int(reached[0]) if reached.size else None,
            "derivative_rel_rms": float(np.sqrt(np.mean((df - derivative(grid[:, 0])) ** 2))
                                        / target_rms),
            "offset_mean": float(offset.mean()), "offset_std": float(offset.std())}


def draw(out, path):
    g = out["grid"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    a.plot(g, truth(g), "k-", label="unknown function sin 4x + ½ sin 10x")
    a.plot(g, out["f"], "C0--", label="learned f(x)")
    a.set_title(f"(a) function: off by a constant (mean {out['offset_mean']:+.3f}, "
                f"sd {out['offset_std']:.4f})", fontsize="medium")
    b.plot(g, derivative(g), "k-", label="target f'(x) = 4 cos 4x + 5 cos 10x")
    b.plot(g, out["df"], "C1--", label="learned ∂f/∂x")
    b.plot(out["x"][:, 0], derivative(out["x"][:, 0]), "k.", ms=3, label="training points")
    b.set_title(f"(b) derivative: relative RMS error {100 * out['derivative_rel_rms']:.2f}%",
                fontsize="medium")
    for ax in (a, b):
        ax.set_xlabel("x")
        ax.legend(fontsize="small")
    fig.suptitle(f"Derivative-only training, MLP [1, 10, 1] tanh, conjugate gradient, "
                 f"{out['iterations']} iterations", fontsize="medium")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="PNG file to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-iter", type=int, default=1000)
    parser.add_argument("--init", choices=["spread", "default"], default="spread")
    args = parser.parse_args(argv)
    out = run(args.seed, args.max_iter, args.init)
    draw(out, args.output)
    print(f"iterations {out['iterations']} (derivative RMS below 5% of the target's after "
          f"{out['iterations_to_5pct']}); derivative relative RMS error "
          f"{100 * out['derivative_rel_rms']:.2f}%; function offset mean "
          f"{out['offset_mean']:+.4f}, sd {out['offset_std']:.4f}; wrote {args.output}")


if __name__ == "__main__":
    main()
