"""Progress of long fits: shown on a terminal after a delay, silent otherwise, and
labelled "fit k of n: what" inside the estimators' multi-fit procedures."""

import io
import re

import numpy as np
import pytest

import jdyn
from jdyn.objectives import Evaluation
from jdyn.systems import Henon, add_observational_noise
from jdyn.training import progress as prog
from jdyn.training import train


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def now(monkeypatch):
    """No delay, no interval: every update of an enabled fit is written."""
    monkeypatch.setattr(prog, "DELAY", 0.0)
    monkeypatch.setattr(prog, "INTERVAL", 0.0)
    monkeypatch.setattr(prog, "LOG_INTERVAL", 0.0)


def _stderr(monkeypatch, tty):
    stream = FakeTTY() if tty else io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    return stream


def _fit(progress="auto", max_iter=20):
    x = np.linspace(-1, 1, 40)[:, None]
    net = jdyn.MLP([1, 4, 1], rng=0)
    train(net, jdyn.objectives.MeanSquaredError(), x, np.sin(3 * x), max_iter=max_iter,
          progress=progress, rng=0)


def test_a_fit_on_a_terminal_shows_one_rewritten_line_and_a_summary(monkeypatch, now):
    err = _stderr(monkeypatch, tty=True)
    _fit()
    text = err.getvalue()
    assert text.startswith("\r\x1b[K") and "jdyn train: iteration 1/20, loss" in text
    assert text.count("\n") == 1 and re.search(r"jdyn train: done, .* s\]\n$", text)


@pytest.mark.parametrize("tty, progress", [(False, "auto"), (True, False)])
def test_quiet_off_a_terminal_or_with_progress_false(monkeypatch, now, tty, progress):
    err = _stderr(monkeypatch, tty)
    _fit(progress)
    assert err.getvalue() == ""


def test_progress_true_writes_plain_lines_to_a_log(monkeypatch, now):
    err = _stderr(monkeypatch, tty=False)
    _fit(True, max_iter=5)
    lines = err.getvalue().splitlines()
    assert "\r" not in err.getvalue() and len(lines) >= 2
    assert all(line.startswith("jdyn train: ") for line in lines)


def test_short_fits_stay_quiet_with_the_default_delay(monkeypatch):
    err = _stderr(monkeypatch, tty=True)
    _fit()                                   # milliseconds, well under DELAY = 2 s
    assert err.getvalue() == ""


def test_the_line_carries_validation_and_terms(monkeypatch, now):
    err = _stderr(monkeypatch, tty=False)
    bar = prog.FitProgress(True, 10)
    bar.update(3, Evaluation(0.5, np.zeros(1), {"mse": 0.5}), 0.7)
    bar.close()
    assert "iteration 3/10, loss 0.5, validation 0.7, mse 0.5" in err.getvalue()


def test_bad_progress_is_refused_by_name():
    with pytest.raises(ValueError, match="progress must be True, False or 'auto'"):
        _fit("always")


def _summaries(text, pattern):
    """The groups of ``pattern`` in each summary line of a terminal's output."""
    lines = re.split(r"\r\x1b\[K|\n", text)
    return [m.groups() for line in lines if ": done, " in line
            for m in [re.match(pattern, line)] if m]


def test_a_strength_search_labels_fit_k_of_n(monkeypatch, now):
    err = _stderr(monkeypatch, tty=True)
    x = Henon().trajectory(300, rng=0)[:, 0]
    jdyn.DelayMapEstimator(2, hidden=(3,), regulariser="weight_decay", max_iter=3,
                           rng=0).fit(x)
    heads = _summaries(err.getvalue(),
                       r"jdyn fit (\d) of (\d): weight_decay, strength ([\de.-]+): done")
    assert heads == [(str(k), "5", s) for k, s in
                     zip(range(1, 6), ("1e-06", "1e-05", "0.0001", "0.001", "0.01"))]


def test_errors_in_variables_labels_each_fit_within_its_bound(monkeypatch, now):
    err = _stderr(monkeypatch, tty=True)
    y = add_observational_noise(Henon().trajectory(400, rng=0)[:, 0], 0.05, rng=1)
    est = jdyn.DelayMapEstimator(2, hidden=(4,), regulariser="eiv", max_iter=8,
                                 rng=0).fit(y)
    done = _summaries(err.getvalue(), r"jdyn fit (\d+) of at most (\d+): (.*): done, ")
    counts = [int(k) for k, _, _ in done]
    assert counts == list(range(1, len(counts) + 1))
    assert all(int(k) <= int(n) for k, n, _ in done)
    assert done[0][2].startswith("least squares with the output guard")
    gammas = [float(re.match(r"errors-in-variables, gamma ([\d.e+-]+) \(", what).group(1))
              for _, _, what in done[1:]]
    fitted = [s["strength"] for s in est.selection_]
    assert len(counts) == 1 + len(fitted)      # the plain start, then one per gamma
    np.testing.assert_allclose(sorted(set(gammas)), sorted(set(fitted)), rtol=1e-2)


def test_auto_on_clean_data_revises_the_count_to_the_exact_two_fits(monkeypatch, now):
    err = _stderr(monkeypatch, tty=True)
    x = Henon().trajectory(400, rng=0)[:, 0]
    est = jdyn.DelayMapEstimator(2, hidden=(4,), max_iter=8, noise_level=0.0, rng=0).fit(x)
    assert est.regulariser_ == "none"
    text = err.getvalue()
    assert "jdyn fit 1 of at most " in text
    assert re.search(r"jdyn fit 2 of 2: least squares refitted without the output guard",
                     text)


def test_the_bound_on_errors_in_variables_fits():
    from jdyn.estimators._eiv import max_fits
    # From 3: 3, 30, 300, 3000, 10000 up (5) or 3, 0.3, 0.03 down (3); 3 root steps, a final.
    assert max_fits((3.0, 10.0, 30.0, 100.0)) == 5 + 3 + 1
    assert max_fits((7.0,)) == 1
