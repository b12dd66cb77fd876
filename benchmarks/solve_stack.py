"""Stacked small linear solves, as GaussNewton does them: ``matrix._solve_stack`` against ``np.linalg.solve``.

Stacks of n systems of size d^2 x d^2 (the Jacobians of GaussNewton for d x d matrices): n = 6 runs
(chapter 6's widget) for d = 2..5, and n = 200 for d = 3. Each solver is timed on the same seeded,
well-conditioned systems; the median and best of several repeats are printed in microseconds.
``np.linalg.solve`` is timed twice: with OpenBLAS's default threads, and in a child process with
OPENBLAS_NUM_THREADS=1 (what ``threadpoolctl.threadpool_limits(1)`` sets at run time). On a shared
machine the numbers move with the load: run it several times.
"""

import os
import statistics
import subprocess
import sys
import time

import numpy as np

from simplest_node.matrix import _solve_stack

CASES = [(6, 2), (6, 3), (6, 4), (6, 5), (200, 3)]


def systems(n, d, seed=0):
    rng = np.random.default_rng(seed)
    m = d * d
    J = rng.normal(size=(n, m, m)) + m * np.eye(m)
    return J, rng.normal(size=(n, m, 1))


def timed(fn, repeat=7, number=200):
    fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(runs), min(runs)


def row(label, median, best):
    return f"  {label:<34} median {median:8.1f} us   best {best:8.1f} us"


def main(which):
    for n, d in CASES:
        J, b = systems(n, d)
        ours, singular = _solve_stack(J, b)
        assert not singular.any() and np.allclose(ours, np.linalg.solve(J, b), rtol=1e-10, atol=1e-12)
        print(f"n = {n} systems of size {d * d} x {d * d}:")
        if which in ("all", "threaded"):
            if which == "all":
                print(row("_solve_stack (numpy elimination)", *timed(lambda J=J, b=b: _solve_stack(J, b))))
            label = (
                "np.linalg.solve, 1 thread"
                if os.environ.get("OPENBLAS_NUM_THREADS") == "1"
                else ("np.linalg.solve, default threads")
            )
            print(row(label, *timed(lambda J=J, b=b: np.linalg.solve(J, b))))
    if which == "all":
        print("and in a child process with OPENBLAS_NUM_THREADS=1:", flush=True)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        subprocess.run([sys.executable, __file__, "threaded"], env=env, check=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "all")
