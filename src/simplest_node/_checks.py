"""Argument checks shared by the package: every public function validates its inputs here,
so a bad value fails early with a message that names the argument and what is accepted."""

import numbers

import numpy as np


def positive_finite(name, value):
    """Return ``value`` as a float after checking it is a finite number > 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def finite(name, value):
    """Return ``value`` as a float after checking it is a finite real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def unit_interval(name, value):
    """Return ``value`` as a float after checking 0 <= value < 1."""
    value = finite(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return value


def positive_int(name, value, minimum=1, maximum=None):
    """Return ``value`` as an int after checking it is an integer in [``minimum``, ``maximum``]."""
    accepted = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer {accepted}, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {accepted}, got {value!r}")
    return int(value)


def seed(name, value):
    """Return ``value`` as an int after checking it is a seed numpy accepts: an integer >= 0."""
    return positive_int(name, value, minimum=0)


# The most elementary updates (solver steps x batch entries x iterations, or frames, or series
# terms) one call may ask for. Checked before any work starts, so a typo such as n_iter=10**12
# fails at once instead of running for hours or asking for terabytes.
MAX_WORK = 10**9


def bounded_work(what, **factors):
    """Check that the product of ``factors`` (name=count) is at most ``MAX_WORK``; return it."""
    total = 1
    for count in factors.values():
        total *= int(count)
    if total > MAX_WORK:
        asked = " x ".join(f"{key}={int(count):,}" for key, count in factors.items())
        raise ValueError(
            f"{what} asks for {asked} = {total:.3g} elementary updates; the limit is {MAX_WORK:.0e} "
            "(simplest_node._checks.MAX_WORK)"
        )
    return total


def choice(name, value, accepted):
    """Check that ``value`` is one of ``accepted`` (a collection of strings)."""
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be one of {', '.join(sorted(accepted))}; got {type(value).__name__} {value!r:.40}"
        )
    if value not in accepted:
        raise ValueError(f"unknown {name} {value!r}; accepted: {', '.join(sorted(accepted))}")
    return value


def numeric_array(name, value, kinds="iuf", what="real numbers"):
    """Return ``value`` as an array after checking its entries are numbers of the dtype ``kinds``
    ("iuf": integers and floats; "iufc": complex too): no bools, strings, None or ragged nesting.
    Non-finite entries are not checked here (``finite_array`` does)."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of {what}, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged nesting
        raise TypeError(f"{name} must be an array of {what} (a regular nesting), got {value!r:.80}") from err
    if arr.dtype.kind not in kinds:
        raise TypeError(f"{name} must be an array of {what}, got an array of dtype {arr.dtype}")
    return arr


def finite_array(name, value, allow_empty=False):
    """Return ``value`` as a float array after checking it holds real numbers only (no bools,
    complex numbers, strings, None or ragged nesting) and that every entry is finite."""
    arr = numeric_array(name, value).astype(float, copy=False)
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        where = f" at index {index}" if arr.ndim else ""
        raise ValueError(f"{name} must contain only finite numbers, got {float(arr[index])!r}{where}")
    return arr


def instance(name, value, types, accepted):
    """Return ``value`` after checking it is an instance of ``types``; ``accepted`` says what in words."""
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {accepted}, got {type(value).__name__} {value!r:.40}")
    return value


def optimizer(name, value):
    """Return ``value`` after checking it is an optimizer: an object with ``init(a)`` and
    ``update(problem, a, state, k)`` methods (GD, SGD, Adam, ...)."""
    if not (callable(getattr(value, "init", None)) and callable(getattr(value, "update", None))):
        raise TypeError(
            f"{name} must be an optimizer with init(a) and update(problem, a, state, k) "
            f"(GD, SGD, Adam, ...), got {type(value).__name__} {value!r:.60}"
        )
    return value


def open_interval(name, value, low, high):
    """Return ``value`` as a float after checking low < value < high."""
    value = finite(name, value)
    if not low < value < high:
        raise ValueError(f"{name} must lie in the open interval ({low:g}, {high:g}), got {value!r}")
    return value


def flag(name, value):
    """Return ``value`` as a bool after checking it is one (True/False; numpy bools too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r:.40}")
    return bool(value)


def axes(name, value, count=None):
    """Check that ``value`` is a matplotlib Axes (or, with ``count``, a sequence of that many)."""
    from matplotlib.axes import Axes

    items = [value] if count is None else (list(value) if isinstance(value, (list, tuple, np.ndarray)) else None)
    if items is None or (count is not None and len(items) != count) or not all(isinstance(a, Axes) for a in items):
        wanted = "a matplotlib Axes" if count is None else f"a sequence of {count} matplotlib Axes"
        raise TypeError(f"{name} must be {wanted}, got {type(value).__name__} {value!r:.60}")
    return value
