"""Hidden cases for assignment 1: broadcasting the visible tests do not cover (instructor-only).

Every case is a float64 gradcheck (central differences, random upstream gradient) of one op on
shapes that catch hand-written reductions: a lower-rank operand whose broadcast axis has the same
length as another (a reduction over the wrong axis keeps the right shape), size-1 axes in the
middle, 0-d tensors, and one input used twice.
"""
import numpy as np
import pytest

import minitune
from minitune.autograd.gradcheck import gradcheck

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}


def tensors(*shapes, seed=0, positive=True):
    rng = np.random.default_rng(seed)
    return [minitune.tensor(rng.uniform(0.5, 1.5, size=s) if positive else rng.normal(size=s), requires_grad=True)
            for s in shapes]


def shape_id(shapes):
    return "x".join(str(tuple(s)).replace(" ", "") for s in shapes)


LOWER_RANK = [((4, 4), (4,)), ((4,), (4, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((2, 4, 4), (4, 1))]
MIDDLE = [((2, 1, 3, 1), (2, 5, 3, 4)), ((2, 5, 3, 4), (1, 5, 1, 4)), ((3, 1, 4), (3, 2, 4))]
SCALARS = [((), (3, 4)), ((3, 4), ()), ((), ())]


def cases(shapes_list, label):
    return [pytest.param(op, shapes, id=f"op={op}-{label}={shape_id(shapes)}") for shapes in shapes_list for op in OPS]


@pytest.mark.parametrize("op,shapes", cases(LOWER_RANK, "lower_rank") + cases(MIDDLE, "size1_middle")
                         + cases(SCALARS, "scalar"))
def test_broadcast_gradcheck(op, shapes):
    assert gradcheck(OPS[op], tensors(*shapes))


@pytest.mark.parametrize("op", list(OPS))
def test_one_input_used_twice(op):
    (x,) = tensors((3, 4))
    assert gradcheck(lambda x: OPS[op](x, x), [x])


@pytest.mark.parametrize("op", list(OPS))
def test_one_upstream_gradient_feeds_two_branches(op):
    """(a op b) + (a op b): the sum hands the same upstream array to both branches."""
    a, b = tensors((3, 4), (3, 4))
    assert gradcheck(lambda a, b: OPS[op](a, b) + OPS[op](b, a), [a, b])


@pytest.mark.parametrize("shapes", [((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3))],
                         ids=lambda s: f"shapes={shape_id(s)}")
def test_matmul_vectors_gradcheck(shapes):
    assert gradcheck(lambda a, b: a @ b, tensors(*shapes, positive=False))
