"""Optimizer sweep benchmark: 41 initializations x 3 optimizers x 500 iterations (target < 50 ms).

41 a0 on linspace(-3, 3), GD (lr 0.05), Adam (lr 0.05) and the variance-corrected rule (lr 0.5),
each one ``iterations_to_tolerance`` call (one vectorized ``train``) of 500 iterations on
LinearProblem(a* = 1, t = 1, sigma = 1) with the rk4 solver in 20 steps. Prints the median wall
time of each optimizer's sweep over a few repeats (and the best, timeit's convention, which is less
sensitive to other processes on a shared machine), their total, and the runs' outcomes.
"""

import statistics
import time

import numpy as np

from simplest_node import GD, Adam, LinearProblem, VarianceCorrected
from simplest_node.sweeps import iterations_to_tolerance

A0 = np.linspace(-3.0, 3.0, 41)
N_ITER = 500
TOL = 1e-8
TARGET_MS = 50.0
OPTIMIZERS = {
    "GD, lr 0.05": GD(0.05),
    "Adam, lr 0.05": Adam(0.05),
    "variance-corrected, lr 0.5": VarianceCorrected(0.5),
}


def main(repeat=7):
    problem = LinearProblem(1.0, 1.0, 1.0, method="rk4", n_steps=20)
    total = best_total = 0.0
    for name, optimizer in OPTIMIZERS.items():
        iterations_to_tolerance(problem, optimizer, A0, N_ITER, TOL)  # warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            sweep = iterations_to_tolerance(problem, optimizer, A0, N_ITER, TOL)
            times.append(time.perf_counter() - start)
        ms = 1000 * statistics.median(times)
        total += ms
        best_total += 1000 * min(times)
        counts = sweep.counts()
        print(
            f"{name:<28} {ms:6.1f} ms (best {1000 * min(times):5.1f})   "
            f"converged (loss < {TOL:g}) {counts['converged']:>2}/{A0.size}, "
            f"diverged {counts['diverged']}, on the plateau {counts['plateau']}, "
            f"other {counts['not converged']}"
        )
    verdict = "ok" if total < TARGET_MS else f"over the {TARGET_MS:.0f} ms target"
    print(
        f"total {total:.1f} ms (best {best_total:.1f} ms) for {len(OPTIMIZERS)} x {A0.size} runs "
        f"of {N_ITER} iterations ({verdict})"
    )
    return total


if __name__ == "__main__":
    main()
