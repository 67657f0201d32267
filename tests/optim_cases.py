"""The optimizer option grids: one table, read by ``tools/references/optim.py`` (which runs torch on it
into the fixtures) and by ``tests/test_optim_trajectories.py`` (which names each case by its columns)."""
import itertools

SGD_COLUMNS = ("momentum", "dampening", "nesterov", "weight_decay", "maximize")  # lr = 0.1
SGD_GRID = [row for row in itertools.product([0.0, 0.9], [0.0, 0.5], [0.0, 1.0], [0.0, 0.01], [0.0, 1.0])
            if not (row[2] and (row[0] == 0 or row[1] != 0))]

ADAM_COLUMNS = ("weight_decay", "amsgrad", "maximize", "eps", "beta1", "beta2")  # lr = 0.05
ADAM_GRID = [(wd, ams, mx, eps, 0.9, 0.999)
             for wd, ams, mx, eps in itertools.product([0.0, 0.1], [0.0, 1.0], [0.0, 1.0], [1e-8, 0.1])]
ADAM_GRID += [(0.1, 1.0, 0.0, 1e-8, 0.3, 0.8), (0.0, 0.0, 1.0, 1e-3, 0.5, 0.6)]  # lerp's large-weight branch
# AdamW: the same grid with weight_decay 0 replaced by AdamW's default 0.01
ADAMW_GRID = [(0.01 if wd == 0 else wd, ams, mx, eps, b1, b2) for wd, ams, mx, eps, b1, b2 in ADAM_GRID]


def case_id(columns, row):
    """``momentum=0.9-dampening=0.5-...``: a case named by its parameters (the grader prints them)."""
    return "-".join(f"{c}={v:g}" for c, v in zip(columns, row))
