"""``minitune.utils``: torch's ``torch.utils`` namespace — ``minitune.utils.data`` holds the data API.

    from minitune.utils.data import DataLoader, Dataset, Subset, random_split   # torch.utils.data
"""
from . import data  # noqa: F401
