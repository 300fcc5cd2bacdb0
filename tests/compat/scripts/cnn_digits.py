"""A small CNN (Conv2d, BatchNorm2d, MaxPool2d, Dropout) on the 8x8 digits, Adam, tutorial style."""

import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(1)
device = "cpu"

data = np.load(sys.argv[1])
images = torch.from_numpy(data["x_train"])
labels = torch.from_numpy(data["y_train"])
test_set = TensorDataset(torch.from_numpy(data["x_test"]), torch.from_numpy(data["y_test"]))

full = TensorDataset(images, labels)
n_val = len(full) // 10
generator = torch.Generator().manual_seed(42)
train_set, val_set = random_split(full, [len(full) - n_val, n_val], generator=generator)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True, drop_last=True)
val_loader = DataLoader(val_set, batch_size=100)
test_loader = DataLoader(test_set, batch_size=100)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Dropout(0.1),
        )
        self.conv3 = nn.Conv2d(32, 32, 3, stride=1, padding="same")
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.dropout = nn.Dropout(p=0.25)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.features(x)
        x = self.pool(F.relu(self.conv3(x)))
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        m.bias.data.fill_(0.01)


model = Net().to(device)
model.apply(init_weights)
optimizer = optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)


def train(epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % 20 == 0:
            seen = batch_idx * len(data)
            print(f"Train Epoch: {epoch} [{seen}/{len(train_loader.dataset)}]\tLoss: {loss.item():.6f}")


def test(loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    return test_loss / len(loader.dataset), correct / len(loader.dataset)


best_val = 0.0
for epoch in range(1, 7):
    train(epoch)
    val_loss, val_acc = test(val_loader)
    best_val = max(best_val, val_acc)
    print(f"epoch {epoch}: validation loss {val_loss:.4f}, accuracy {val_acc:.4f}")

running_mean = model.features[1].running_mean
assert running_mean.shape == (16,) and not running_mean.requires_grad
assert int(model.features[1].num_batches_tracked) == 6 * len(train_loader)
test_loss, test_acc = test(test_loader)
print(f"test loss: {test_loss:.4f}")
print(f"accuracy: {test_acc:.4f}")
print(f"best validation accuracy: {best_val:.4f}")
