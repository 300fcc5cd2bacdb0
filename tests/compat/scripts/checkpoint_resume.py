"""Adam + StepLR + gradient clipping, with a checkpoint saved mid-run and training resumed from it.

The resumed run must land on exactly the weights of the uninterrupted one: model, optimiser and
scheduler state all travel through ``torch.save`` / ``torch.load``.
"""

import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

data = np.load(sys.argv[1])
workdir = sys.argv[2]
train_set = TensorDataset(torch.tensor(data["x_train"]).flatten(1), torch.tensor(data["y_train"]))
x_test, y_test = torch.tensor(data["x_test"]).flatten(1), torch.tensor(data["y_test"])
EPOCHS, SAVE_AFTER = 6, 3


def make_model():
    return nn.Sequential(nn.Linear(64, 96), nn.Tanh(), nn.Linear(96, 48), nn.GELU(), nn.Linear(48, 10))


def make_training(model):
    optimizer = torch.optim.Adam(model.parameters(), lr=4e-3, betas=(0.9, 0.99))
    scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    return optimizer, scheduler


def run_epoch(model, optimizer, epoch):
    model.train()
    generator = torch.Generator().manual_seed(100 + epoch)
    loader = DataLoader(train_set, batch_size=50, shuffle=True, generator=generator)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    total = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(inputs), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def accuracy(model):
    model.eval()
    with torch.no_grad():
        return (model(x_test).argmax(1) == y_test).float().mean().item()


torch.manual_seed(0)
model = make_model()
initial_state = {k: v.clone() for k, v in model.state_dict().items()}
optimizer, scheduler = make_training(model)
path = os.path.join(workdir, "checkpoint.pt")
for epoch in range(EPOCHS):
    loss = run_epoch(model, optimizer, epoch)
    scheduler.step()
    print(f"epoch {epoch}: loss {loss:.4f}, lr {scheduler.get_last_lr()[0]:.6f}")
    if epoch + 1 == SAVE_AFTER:
        torch.save({
            "epoch": epoch,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler_state_dict": scheduler.state_dict(),
            "loss": loss,
        }, path)

# A new process would start here: fresh objects, everything from the checkpoint.
resumed = make_model()
resumed.load_state_dict(initial_state)
new_optimizer, new_scheduler = make_training(resumed)
checkpoint = torch.load(path)
resumed.load_state_dict(checkpoint["model_state_dict"])
new_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
new_scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
start = checkpoint["epoch"] + 1
assert new_optimizer.param_groups[0]["lr"] == 4e-3 * 0.5, new_optimizer.param_groups[0]["lr"]
for epoch in range(start, EPOCHS):
    run_epoch(resumed, new_optimizer, epoch)
    new_scheduler.step()

difference = max((a - b).abs().max().item() for a, b in zip(model.parameters(), resumed.parameters()))
print(f"resume difference: {difference:.6f}")
print(f"final lr: {optimizer.param_groups[0]['lr']:.6f}")
print(f"adam steps: {optimizer.state_dict()['state'][0]['step']:.0f}")
print(f"accuracy: {accuracy(model):.4f}")

torch.save(resumed.state_dict(), os.path.join(workdir, "weights.pt"))
fresh = make_model()
missing, unexpected = fresh.load_state_dict(torch.load(os.path.join(workdir, "weights.pt")), strict=True)
assert not missing and not unexpected
print(f"reloaded accuracy: {accuracy(fresh):.4f}")
