"""Seeded fuzzing of the checkpoint reader: a few hundred mutants of the torch-written fixtures.

Every case (see ``tests/checkpoint_mutants.py``) is loaded in a worker subprocess with a memory
cap (``RLIMIT_AS``) and a hang guard, and must end in a correct load or the documented
``CheckpointError`` naming the file; no hostile payload may create its marker file, and no pickle
may change the allowlisted functions.  ``tools/fuzz_checkpoints.py --scale N`` runs N times as many.
"""
import collections

import pytest
from checkpoint_fuzz_worker import failures, run_cases
from checkpoint_mutants import all_cases

pytestmark = pytest.mark.weights


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    marker = root / "pwned"
    results, allowlist_ok = run_cases(list(all_cases(marker)), root / "cases")
    return results, allowlist_ok, marker


def test_every_mutant_loads_or_raises_the_documented_error(fuzz):
    results, _, _ = fuzz
    assert len(results) >= 300
    assert failures(results) == []


def test_every_outcome_kind_occurs(fuzz):
    """The table is not vacuous: mutants load, fail as corrupt, and are refused as unsafe."""
    kinds = collections.Counter(outcome for outcome, _, _ in fuzz[0].values())
    assert kinds["ok"] > 10 and kinds["CheckpointError"] > 100 and kinds["UnsafePickleError"] > 30, kinds


def test_no_hostile_payload_ran(fuzz):
    _, _, marker = fuzz
    assert not marker.exists()


def test_no_pickle_changed_the_allowlist(fuzz):
    assert fuzz[1]
