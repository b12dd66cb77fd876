"""Argument checks shared by the package: every public function validates its inputs here,
so a bad value fails early with a message that names the argument and what is accepted."""

import numbers

import numpy as np


def positive_finite(name, value):
    """Return ``value`` as a float after checking it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def finite(name, value):
    """Return ``value`` as a float after checking it is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
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


def positive_int(name, value, minimum=1):
    """Return ``value`` as an int after checking it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def choice(name, value, accepted):
    """Check that ``value`` is one of ``accepted`` (a collection of strings)."""
    if value not in accepted:
        raise ValueError(f"unknown {name} {value!r}; accepted: {', '.join(sorted(accepted))}")
    return value


def finite_array(name, value, allow_empty=False):
    """Return ``value`` as a float array after checking every entry is finite."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of real numbers") from err
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers")
    return arr


def open_interval(name, value, low, high):
    """Return ``value`` as a float after checking low < value < high."""
    value = finite(name, value)
    if not low < value < high:
        raise ValueError(f"{name} must lie in the open interval ({low:g}, {high:g}), got {value!r}")
    return value
