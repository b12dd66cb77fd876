"""Registrations for test_robustness.py: the chapter on a real Neural ODE (modules real_node and
figures.real_node, which need JAX and are imported explicitly, not by ``import simplest_node``). See
robustness_cases_a.py for the format.

Their work is compiled by JAX the first time a shape is seen, which can take longer than the test's
time budget for one call: each ``make()`` therefore runs its valid call once, untimed, before
returning it (``_warm``), so that the timed calls measure the work, as a reader's second call does.
"""

import numpy as np

import simplest_node as sn  # noqa: F401  (the registered names resolve through it)
from robustness import Case, Exempt
from simplest_node import real_node
from simplest_node.figures import real_node as plot_real_node

_WARM = set()


def _warm(name, fn, kwargs):
    if name not in _WARM:
        fn(**kwargs)
        _WARM.add(name)
    return fn, kwargs


def _data():
    return real_node.make_data(n_series=2, horizon=0.5, n_times=3, seed=0)


def _field():
    return real_node.init_field(width=4, scale=1.0, seed=0)


def _series(name, fn, **extra):
    def make():
        y0, ts, ys = _data()
        return _warm(name, fn, dict(field=_field(), y0=y0, ts=ts, ys=ys, **extra))

    return make


def _pairs():
    return real_node.one_step_pairs(n_pairs=4, h=0.1, seed=0)


CASES = {
    "real_node.cubic_field": Case(lambda: (real_node.cubic_field, dict(t=0.0, y=np.array([0.5, -0.2])))),
    "real_node.make_data": Case(
        lambda: (real_node.make_data, dict(n_series=2, horizon=0.5, n_times=3, seed=0, radius=[0.6, 1.2]))
    ),
    "real_node.init_field": Case(lambda: (real_node.init_field, dict(width=4, scale=1.0, seed=0))),
    "real_node.solve": Case(
        lambda: _warm("solve", real_node.solve, dict(field=_field(), y0=_data()[0], ts=_data()[1], n_steps=4)),
        kinds={"solver": "object", "adjoint": "object"},
    ),
    "real_node.train_grid": Case(
        lambda: _warm(
            "train_grid",
            real_node.train_grid,
            dict(scales=[1.0], horizons=[0.5], lr_gd=0.1, lr_adam=0.01, n_iter=2, width=4, n_steps=2, seed=0),
        ),
        examples=12,
    ),
    "real_node.settling_step": Case(
        lambda: (real_node.settling_step, dict(losses=np.array([1.0, 0.05, 0.01]), tol=0.1))
    ),
    "real_node.continuation_study": Case(
        lambda: _warm(
            "continuation",
            real_node.continuation_study,
            dict(horizon=1.0, fraction=0.5, n_seeds=1, lr=0.01, n_iter=2, width=4, n_steps=2),
        ),
        examples=12,
    ),
    "real_node.fit_lm": Case(_series("fit_lm", real_node.fit_lm, n_iter=2, n_steps=2), examples=12),
    "real_node.fit_adam": Case(_series("fit_adam", real_node.fit_adam, lr=0.01, n_iter=2), examples=12),
    "real_node.gradient_study": Case(
        _series("gradient_study", real_node.gradient_study, rtols=[1e-4], repeat=1), examples=12
    ),
    "real_node.stiff_step_counts": Case(
        lambda: _warm("stiff", real_node.stiff_step_counts, dict(lams=[1.0, 10.0], rtol=1e-4)), examples=12
    ),
    "real_node.one_step_pairs": Case(
        lambda: (real_node.one_step_pairs, dict(n_pairs=4, h=0.1, seed=0, radius=[0.6, 1.2]))
    ),
    "real_node.fit_one_step": Case(
        lambda: _warm(
            "fit_one_step",
            real_node.fit_one_step,
            dict(field=_field(), x0=_pairs()[0], x1=_pairs()[1], h=0.1, max_steps=2),
        ),
        examples=12,
    ),
    "real_node.RK4": Exempt("a diffrax solver class (its arguments are diffrax's); tests/test_real_node.py checks it"),
    "figures.real_node.scale_horizon_figure": Case(
        lambda: _warm("widget", plot_real_node.scale_horizon_figure, dict(log10_scale=0.0, horizon=1.0)), examples=12
    ),
    "figures.real_node.draw_scale_horizon": Case(
        lambda: _warm(
            "draw",
            plot_real_node.draw_scale_horizon,
            dict(ax=plot_real_node.scale_horizon_figure().axes[0], log10_scale=0.5, horizon=1.0),
        ),
        kinds={"ax": "object"},
        examples=12,
    ),
}
