"""minitune.data: image folders, transforms, a threaded DataLoader and synthetic datasets.

    from minitune.data import ImageFolder, DataLoader, transforms as T
    augment = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                         T.Normalize(T.IMAGENET_MEAN, T.IMAGENET_STD)])
    train = ImageFolder("hymenoptera_data/train", transform=augment)
    for images, labels in DataLoader(train, batch_size=4, shuffle=True, num_workers=2, seed=0): ...
"""
from . import transforms  # noqa: F401
from .folder import (IMG_EXTENSIONS, ImageFolder, check_same_classes, default_loader,  # noqa: F401
                     has_file_allowed_extension, pil_loader, to_rgb)
from .generator import current_generator, sample_generator, use_generator  # noqa: F401
from .loader import DataLoader, TensorDataset, default_collate  # noqa: F401
from .synthetic import SyntheticImages, SyntheticShapes, synthetic_train_val, write_image_folder  # noqa: F401
