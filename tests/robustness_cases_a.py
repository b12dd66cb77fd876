"""Registrations for test_robustness.py: the linear model, its optimizers, training, gradients and
their figures (modules linear, optimizers, training, landscape, solvers, gradients, sweeps,
safeguards, minibatch, prose, animation and their plot_* modules).

Each entry maps a public name (or "Class.method") to a ``Case`` whose ``make()`` returns a fresh
valid call as (callable, kwargs), or to a list of Cases, or to ``Exempt(reason)``. Keep each valid
call small (well under a second): the test derives a few dozen variants from it.
"""

import numpy as np

import simplest_node as sn
from robustness import Case, Exempt  # noqa: F401

CASES = {
    "LinearProblem": Case(lambda: (sn.LinearProblem, dict(a_star=1.0, t=1.0, sigma=1.0))),
    "LinearProblem.loss": Case(lambda: (sn.LinearProblem().loss, dict(a=np.array([0.0, 1.5])))),
    "train": Case(lambda: (sn.train, dict(problem=sn.LinearProblem(), optimizer=sn.GD(0.1), a0=[0.0, -1.0],
                                          n_iter=20)),
                  kinds={"problem": "object", "optimizer": "object"}),
    "glue": Case(lambda: (sn.glue, dict(name="x", value=0.5))),
}
