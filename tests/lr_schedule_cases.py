"""The learning-rate schedule table, shared by ``tools/references/optim.py`` (evaluated with
``torch.optim.lr_scheduler``) and ``tests/test_lr_scheduler.py`` (with ``minitune.optim.lr_scheduler``).

``schedule_cases(S)`` maps a name to (builder, calls): ``builder(optimizer)`` makes the schedule from
module ``S``; ``calls`` is a number of plain ``step()`` calls or a list of ``step(epoch)`` values.
"""


def schedule_cases(S):
    return {
        "steplr": (lambda o: S.StepLR(o, step_size=7, gamma=0.1), 25),
        "multisteplr": (lambda o: S.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.5), 15),
        "exponentiallr": (lambda o: S.ExponentialLR(o, gamma=0.9), 20),
        "cosine": (lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-4), 35),
        "linearlr_default": (lambda o: S.LinearLR(o), 10),
        "linearlr_custom": (lambda o: S.LinearLR(o, start_factor=0.1, end_factor=0.5, total_iters=4), 8),
        "sequential_warmup_cosine": (lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                                  S.CosineAnnealingLR(o, T_max=20)],
                                                              milestones=[5]), 30),
        "sequential_three": (lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.5, total_iters=3), S.ExponentialLR(o, 0.9),
                                                          S.StepLR(o, 3, 0.5)], milestones=[3, 8]), 16),
        "steplr_closed_form": (lambda o: S.StepLR(o, 7, 0.1), [3, 7, 10, 15, 21, 24]),
        "cosine_closed_form": (lambda o: S.CosineAnnealingLR(o, 10), [0, 2, 5, 10, 13, 20]),
    }
