"""The explicit Runge-Kutta methods: each one's Butcher tableau, written once, and what follows from it.

One step of size h from (t, x) of the method with tableau (A, b, c) (A strictly lower triangular)::

    k_i = f(t + c_i h, x + h sum_{j<i} a_ij k_j),   x' = x + h sum_i b_i k_i,   c_i = sum_j a_ij.

On dx/dt = a x one step multiplies x by the stability polynomial R(z), z = a h::

    R(z) = 1 + z b^T (I - z A)^{-1} 1 = 1 + sum_{k=0}^{s-1} b^T A^k 1 z^{k+1}

(A is nilpotent, so the Neumann series stops after s terms). Every module that steps, differentiates or
inverts one of these methods reads ``TABLEAUX``, ``STABILITY_POLYNOMIALS`` or ``STABILITY_DERIVATIVES``
and evaluates polynomials with ``polyval``: adding a method is one entry in ``TABLEAUX``.
"""

from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np

__all__ = [
    "ButcherTableau",
    "TABLEAUX",
    "RK_METHODS",
    "BUTCHER_TABLEAUX",
    "STABILITY_POLYNOMIALS",
    "STABILITY_DERIVATIVES",
]  # and ``polyval``, the package's own unchecked Horner evaluation (the training loop's hot path)


def _fractions(values):
    return tuple(Fraction(v) for v in values)


@dataclass(frozen=True)
class ButcherTableau:
    """An explicit Runge-Kutta method: rows ``a[i]`` (the i entries a_i0 .. a_i,i-1 of the strictly lower
    triangular A; ``a[0]`` is empty), weights ``b``, nodes ``c`` and its classical ``order``, all exact.

    Entries are given as integers or strings such as ``"2/3"`` and kept as Fractions; ``A``, ``b_float``
    and ``c_float`` are the float arrays. Checks: ``len(a) == len(b) == len(c)``, ``c_i = sum_j a_ij``,
    ``sum b = 1``.
    """

    name: str
    a: tuple
    b: tuple
    c: tuple
    order: int

    def __post_init__(self):
        a = tuple(_fractions(row) for row in self.a)
        b, c = _fractions(self.b), _fractions(self.c)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", c)
        if not len(a) == len(b) == len(c) or any(len(row) != i for i, row in enumerate(a)):
            raise ValueError(f"{self.name}: a must hold rows of lengths 0, 1, .., s - 1 for s = len(b) = len(c)")
        if any(sum(row, Fraction(0)) != ci for row, ci in zip(a, c)):
            raise ValueError(f"{self.name}: c_i must equal sum_j a_ij")
        if sum(b) != 1:
            raise ValueError(f"{self.name}: the weights b must sum to 1 (order >= 1)")
        # What ``step`` needs, as floats and integer weights, computed once.
        object.__setattr__(self, "_nodes", tuple(float(ci) for ci in c))
        object.__setattr__(self, "_rows", tuple(_integer_weights(row) for row in a))
        object.__setattr__(self, "_weights", _integer_weights(b))

    @property
    def stages(self):
        return len(self.b)

    @property
    def A(self):
        """The s x s float matrix A (zeros on and above the diagonal)."""
        out = np.zeros((self.stages, self.stages))
        for i, row in enumerate(self.a):
            out[i, :i] = [float(v) for v in row]
        return out

    @property
    def b_float(self):
        return np.array([float(v) for v in self.b])

    @property
    def c_float(self):
        return np.array([float(v) for v in self.c])

    def stability_polynomial(self):
        """Exact coefficients (Fractions) of R(z) = 1 + sum_k b^T A^k 1 z^{k+1}, trailing zeros dropped."""
        coeffs = [Fraction(1)]
        power = [Fraction(1)] * self.stages  # A^k 1
        for _ in range(self.stages):
            coeffs.append(sum((bi * pi for bi, pi in zip(self.b, power)), Fraction(0)))
            power = [sum((aij * power[j] for j, aij in enumerate(row)), Fraction(0)) for row in self.a]
        while len(coeffs) > 1 and coeffs[-1] == 0:
            coeffs.pop()
        return tuple(coeffs)

    def step(self, f, t, x, h):
        """One step from (t, x). Each combination sum_j w_j k_j is taken as (h / q) sum_j (q w_j) k_j with the
        common denominator q and integer weights, so the roundings are those of the textbook formulas
        (rk4: x + h/6 (k1 + 2 k2 + 2 k3 + k4))."""
        k = []
        for i, (c, row) in enumerate(zip(self._nodes, self._rows)):
            k.append(f(t + c * h if c else t, _combine(x, h, row, k) if i else x))
        return _combine(x, h, self._weights, k)


def _integer_weights(weights):
    """(q, [(j, q w_j) for the nonzero w_j]) with q the common denominator of ``weights``."""
    q = lcm(*(w.denominator for w in weights))
    return q, [(j, int(w * q)) for j, w in enumerate(weights) if w]


def _combine(x, h, plan, k):
    """x + (h / q) sum_j n_j k_j for plan = (q, [(j, n_j)])."""
    q, terms = plan
    if not terms:
        return x
    total = None
    for j, n in terms:
        term = k[j] if n == 1 else n * k[j]
        total = term if total is None else total + term
    return x + (h / q if q != 1 else h) * total


def _tableau(name, a, b, order):
    a = tuple(_fractions(row) for row in a)
    return ButcherTableau(name, a, b, tuple(sum(row, Fraction(0)) for row in a), order)


# The methods, each once: rows of A below the first, weights b, classical order.
TABLEAUX = {
    t.name: t
    for t in (
        _tableau("euler", [[]], [1], 1),
        _tableau("midpoint", [[], ["1/2"]], [0, 1], 2),  # explicit midpoint
        _tableau("heun", [[], [1]], ["1/2", "1/2"], 2),  # explicit trapezoid
        _tableau("rk4", [[], ["1/2"], [0, "1/2"], [0, 0, 1]], ["1/6", "1/3", "1/3", "1/6"], 4),  # classical
        _tableau("ralston", [[], ["2/3"]], ["1/4", "3/4"], 2),  # Ralston (1962): least bound on the leading error
    )
}
RK_METHODS = tuple(TABLEAUX)

# (A, b) float arrays of every method (for code that works with arrays).
BUTCHER_TABLEAUX = {name: (t.A, t.b_float) for name, t in TABLEAUX.items()}

# Coefficients c_k of R(z) = sum_k c_k z^k, and of R'(z), as floats.
STABILITY_POLYNOMIALS = {name: tuple(float(c) for c in t.stability_polynomial()) for name, t in TABLEAUX.items()}
STABILITY_DERIVATIVES = {
    name: tuple(float(k * c) for k, c in enumerate(t.stability_polynomial()))[1:] or (0.0,)
    for name, t in TABLEAUX.items()
}


def polyval(coeffs, z):
    """Evaluate sum_k coeffs[k] z^k by Horner's rule (``coeffs`` lowest degree first; ``z`` array or scalar)."""
    if len(coeffs) == 1:
        return np.zeros_like(z) + coeffs[0]
    # (0 + c_n) z + c_{n-1} = c_n z + c_{n-1} exactly: the first Horner step needs no zeros array.
    # In place (the same roundings as out = out * z + c): fewer temporaries in the training loop.
    out = coeffs[-1] * z
    out += coeffs[-2]
    for c in coeffs[-3::-1]:
        out *= z
        out += c
    return out
