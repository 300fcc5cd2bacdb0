"""An MLP classifier on the 8x8 digits, written as in PyTorch's beginner tutorial."""

import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

data = np.load(sys.argv[1])
x_train = torch.from_numpy(data["x_train"]).float()
y_train = torch.from_numpy(data["y_train"]).long()
x_test = torch.tensor(data["x_test"], dtype=torch.float32)
y_test = torch.tensor(data["y_test"])

mean, std = x_train.mean(), x_train.std()
x_train = (x_train - mean) / std
x_test = (x_test - mean) / std

train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=128, shuffle=False)


class Net(nn.Module):
    def __init__(self, hidden=128, num_classes=10):
        super(Net, self).__init__()  # noqa: UP008  (the older tutorials spell it so)
        self.fc1 = nn.Linear(8 * 8, hidden)
        self.fc2 = nn.Linear(hidden, hidden // 2)
        self.fc3 = nn.Linear(hidden // 2, num_classes)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


model = Net().to(device)
print(model)
print("parameters:", sum(p.numel() for p in model.parameters() if p.requires_grad))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def train_one_epoch():
    model.train()
    running_loss = 0.0
    for inputs, labels in train_loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * inputs.size(0)
    return running_loss / len(train_loader.dataset)


def evaluate(loader):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            loss_sum += F.cross_entropy(outputs, labels, reduction="sum").item()
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return correct / total, loss_sum / total


for epoch in range(1, 9):
    train_loss = train_one_epoch()
    acc, test_loss = evaluate(test_loader)
    print(f"epoch {epoch}: train loss {train_loss:.4f}, test loss {test_loss:.4f}, accuracy {acc:.4f}")

model.eval()
with torch.no_grad():
    logits = model(x_test.to(device))
    probs = F.softmax(logits, dim=1)
    pred = logits.argmax(1)
    final_acc = (pred == y_test.to(device)).float().mean().item()
    assert torch.allclose(probs.sum(dim=1), torch.ones(len(x_test), device=device))
    confident = (probs.max(dim=1).values > 0.9).float().mean().item()

print(f"accuracy: {final_acc:.4f}")
print(f"confident: {confident:.4f}")
