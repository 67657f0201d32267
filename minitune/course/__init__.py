"""Course assignments generated from the solution: ``minitune course build`` and ``grade``.

Solution regions in the source are marked::

    # BEGIN SOLUTION A1: implement Mul.backward (dL/da = g·b, dL/db = g·a)
    a, b = ctx.saved_tensors
    return g * b, g * a
    # END SOLUTION

``build`` replaces the lines between the markers of the chosen assignment with
``raise NotImplementedError("Assignment 1: implement Mul.backward (...)")`` at the
marker's indentation, and keeps everything else (tests, fixtures, notebooks, docs).
"""
from .markers import ASSIGNMENTS, Region, find_regions, strip_regions  # noqa: F401
