"""Registrations for test_robustness.py: the matrix, nonlinear, wide and Hamiltonian models, the
IMDE, troubleshooting experiments and their figures (modules matrix, nonlinear, imde, hamiltonian,
wide, troubleshooting and their plot_* modules). See robustness_cases_a.py for the format.
"""

import numpy as np

import simplest_node as sn
from robustness import Case, Exempt  # noqa: F401

CASES = {
    "energy": Case(lambda: (sn.energy, dict(x=np.array([0.1, 0.2])))),
}
