"""Course assignments generated from the solution: ``minitune course build``, ``grade`` and ``check``.

Solution regions in the source are marked (here with a made-up function, not one of the tasks)::

    def double(x):
        '''y = 2x'''
        # BEGIN SOLUTION A1: implement double (y = 2x)
        <the code a student writes>
        # END SOLUTION

``build`` replaces the lines between the markers of assignment N and of every later assignment with
``raise NotImplementedError("Assignment N: implement ...")`` at the marker's indentation.  A task is
one marked function (``tasks.py``); ``grade`` runs the solution's tests and the hidden tests
(``hidden/``) against each task of a student copy in isolation (``grade.py``), under a per-test
timeout (``runner.py``), and reports per-task points (``report.py``); ``autograder.py`` packs the
same for Gradescope.  ``variants/`` holds deliberately wrong solutions, one per classic mistake,
that the course tests feed through the grader.
"""
from .markers import ASSIGNMENTS, Region, find_regions, strip_regions  # noqa: F401
