"""The transfer-learning script of ``tests/test_torch_client.py``: written for torch (``TORCH_IMPORTS`` +
``SCRIPT``) in the style of PyTorch's "Transfer Learning for Computer Vision" tutorial
(``beginner_source/transfer_learning_tutorial.py``: its data pipeline, ``train_model`` loop, prediction
display, fixed-feature and parameter-group variants and Co-Tuning head and loss) and of the classic
``resnet18(pretrained=True)`` fine-tuning snippet.  The test runs ``MINITUNE_IMPORTS + SCRIPT``:
only the import block differs, one line for one line.
"""

TORCH_IMPORTS = """\
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torch.functional import F
from torch.utils.data import DataLoader, Dataset, Subset, random_split
import torchvision
from torchvision import datasets, models, transforms
"""
MINITUNE_IMPORTS = """\
import minitune as torch
import minitune.nn as nn
import minitune.optim as optim
from minitune.optim import lr_scheduler
from minitune.functional import F
from minitune.utils.data import DataLoader, Dataset, Subset, random_split
from minitune import vision as torchvision
from minitune.vision import datasets, models, transforms
"""

# Written for torch; nothing below names minitune.  DATA_DIR and SAVE_PATH are given by the test.
SCRIPT = r'''
import copy
import os
import numpy as np

torch.manual_seed(0)
torch.backends.cudnn.benchmark = True

mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
data_transforms = {
    'train': transforms.Compose([
        transforms.RandomResizedCrop(32),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean, std)
    ]),
    'val': transforms.Compose([
        transforms.Resize(36),
        transforms.CenterCrop(32),
        transforms.ToTensor(),
        transforms.Normalize(mean, std)
    ]),
}
image_datasets = {x: datasets.ImageFolder(os.path.join(DATA_DIR, x), data_transforms[x]) for x in ['train', 'val']}
dataloaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=4, shuffle=(x == 'train'), num_workers=2)
               for x in ['train', 'val']}
dataset_sizes = {x: len(image_datasets[x]) for x in ['train', 'val']}
class_names = image_datasets['train'].classes
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

# a batch, shown as one image
inputs, classes = next(iter(dataloaders['train']))
out = torchvision.utils.make_grid(inputs[:4])
grid = out.numpy().transpose((1, 2, 0))
grid = np.clip(np.array(std) * grid + np.array(mean), 0, 1)
titles = [class_names[x] for x in classes[:4]]

# the classic snippet
loader = DataLoader(image_datasets['train'], batch_size=32, shuffle=True, num_workers=4)
model_ft = models.resnet18(pretrained=True)
num_ftrs = model_ft.fc.in_features
model_ft.fc = nn.Linear(num_ftrs, len(class_names))
model_ft = model_ft.to(device)
criterion = nn.CrossEntropyLoss()
optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)


def train_model(model, criterion, optimizer, scheduler, num_epochs=1):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    history = []
    for epoch in range(num_epochs):
        print('Epoch {}/{}'.format(epoch, num_epochs - 1))
        for phase in ['train', 'val']:
            if phase == 'train':
                model.train()
            else:
                model.eval()
            running_loss = 0.0
            running_corrects = 0
            for inputs, labels in dataloaders[phase]:
                inputs = inputs.to(device)
                labels = labels.to(device, non_blocking=True)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == 'train'):
                    outputs = model(inputs)
                    target_outputs = outputs[1] if isinstance(outputs, tuple) else outputs
                    _, preds = torch.max(target_outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == 'train':
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == 'train':
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            print('{} Loss: {:.4f} Acc: {:.4f}'.format(phase, epoch_loss, epoch_acc))
            print(f'{phase} accuracy {epoch_acc:.2%}')
            history.append((phase, epoch_loss, float(epoch_acc)))
            if phase == 'val' and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    print('Best val Acc: {:4f}'.format(best_acc))
    model.load_state_dict(best_model_wts)
    return model, history


model_ft, history = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, num_epochs=1)

# fixed feature extractor with parameter groups
model_conv = torchvision.models.resnet18(pretrained=True)
for param in model_conv.parameters():
    param.requires_grad = False
model_conv.fc = nn.Linear(model_conv.fc.in_features, len(class_names))
model_conv = model_conv.to(device)
params = [{"params": [p for name, p in model_conv.named_parameters() if 'fc' in name], "lr": 1e-2},
          {"params": [p for name, p in model_conv.named_parameters() if 'fc' not in name], "lr": 1e-3}]
optimizer_conv = optim.SGD(params, momentum=0.9)
model_conv, _ = train_model(model_conv, criterion, optimizer_conv,
                            lr_scheduler.StepLR(optimizer_conv, step_size=7, gamma=0.1), num_epochs=1)

# predictions, as visualize_model
predicted = []
was_training = model_ft.training
model_ft.eval()
with torch.no_grad():
    for i, (inputs, labels) in enumerate(dataloaders['val']):
        inputs = inputs.to(device)
        outputs = model_ft(inputs)
        _, preds = torch.max(outputs, 1)
        for j in range(inputs.size()[0]):
            label = labels[j].item()
            predicted.append((class_names[label], class_names[preds[j]]))
            image = inputs.cpu()[j].numpy().transpose((1, 2, 0))
model_ft.train(mode=was_training)

# a Co-Tuning-style head and loss (the tutorial's third part)
class CoTuningHead(nn.Module):
    def __init__(self, old_head, num_class):
        super(CoTuningHead, self).__init__()
        self.old_head = old_head
        self.new_head = nn.Linear(old_head.in_features, num_class)

    def forward(self, features):
        return self.old_head(features), self.new_head(features)


class CoTuningLoss(nn.Module):
    def __init__(self, trade_off):
        super().__init__()
        self.trade_off = trade_off
        self.relationship = torch.Tensor([0, 0, 0])  # placeholder

    def to(self, device):
        self.relationship = self.relationship.to(device=device)
        return self

    def fit(self, old_logits, new_labels):
        Ct = new_labels.max().item() + 1
        old_prob = F.softmax(old_logits, dim=-1)
        self.relationship = torch.stack([torch.mean(old_prob[new_labels == i], dim=0) for i in range(Ct)])

    def forward(self, inputs, target):
        old_output, new_output = inputs
        target_loss = F.cross_entropy(new_output, target)
        old_softlabel = self.relationship[target]
        cotuning_loss = - (F.log_softmax(old_output, dim=-1) * old_softlabel).sum(dim=-1).mean(dim=0)
        return target_loss + self.trade_off * cotuning_loss


model_ct = models.resnet18(pretrained=True).to(device)
criterion_ct = CoTuningLoss(trade_off=2.3)
with torch.no_grad():
    model_ct.eval()
    old_logits, new_labels = [], []
    for inputs, labels in dataloaders['train']:
        old_logits.append(model_ct(inputs.to(device)).cpu())
        new_labels.append(labels.cpu())
    criterion_ct.fit(torch.cat(old_logits), torch.cat(new_labels))
model_ct.fc = CoTuningHead(model_ct.fc, len(class_names))
model_ct = model_ct.to(device)
criterion_ct = criterion_ct.to(device)
params = [{"params": [p for name, p in model_ct.named_parameters() if 'new' in name], "lr": 1e-2},
          {"params": [p for name, p in model_ct.named_parameters() if 'new' not in name], "lr": 1e-3}]
optimizer_ct = optim.SGD(params, momentum=0.9)
model_ct, _ = train_model(model_ct, criterion_ct, optimizer_ct, lr_scheduler.StepLR(optimizer_ct, 7, 0.1))

# a hand-written SGD step on .data, and save / load
inputs, labels = next(iter(dataloaders['train']))
loss = criterion(model_ft(inputs.to(device=device, dtype=torch.float32, non_blocking=True)), labels)
loss.backward()
with torch.no_grad():
    for p in model_ft.fc.parameters():
        p.data -= 0.001 * p.grad.data
torch.save(model_ft.state_dict(), SAVE_PATH)
state = torch.load(SAVE_PATH, weights_only=True)
model_ft.load_state_dict(state)
placeholder = torch.Tensor(2, 3)
frozen = torch.set_grad_enabled(False)
frozen_output = model_ft(inputs)
torch.set_grad_enabled(True)
'''
