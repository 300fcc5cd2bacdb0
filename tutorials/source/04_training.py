# %% [markdown]
# # 04 · Training
#
# Training is a loop: show the model a batch of examples, measure how wrong it is (the
# **loss**), compute the gradient of the loss with respect to every weight (tutorial 02), and let an
# **optimiser** move every weight a little against its gradient. Repeat until the model is good
# on examples it has *not* trained on.
#
# In this notebook: `nf.fit`, which runs that loop for you and draws live curves; the same loop
# written by hand, line by line; then optimisers and learning-rate schedules compared as
# overlaid runs on one dashboard.

# %%
import nbframe as nf
from nbframe import nn
from nbframe.nn import functional as F
from nbframe.utils.data import DataLoader, random_split
from nbframe.widgets import TrainingDashboard

%load_ext nbframe

# %% [markdown]
# ## Three sets of data
#
# A model is judged on data it never trained on. The Digits test set stays untouched until the
# very end; to make choices along the way (how long to train, which optimiser) we split off a
# **validation** set from the training images.

# %%
nf.manual_seed(0)
full_train = nf.datasets.Digits(train=True)
train_set, val_set = random_split(full_train, [0.8, 0.2])
test_set = nf.datasets.Digits(train=False)
print(f"train {len(train_set)}, validation {len(val_set)}, test {len(test_set)} images")

train_loader = DataLoader(train_set, batch_size=32, shuffle=True)   # a new order every epoch
val_loader = DataLoader(val_set, batch_size=256)

# %% [markdown]
# A `DataLoader` turns a dataset into **batches**: a batch of 32 images is one tensor of shape
# `(32, 1, 8, 8)` and its labels one tensor of 32 integers.

# %%
images, labels = next(iter(train_loader))
print(tuple(images.shape), labels.dtype, labels[:10].tolist())

# %% [markdown]
# ## `nf.fit`
#
# The model is tutorial 03's. `nf.fit` trains it for a number of **epochs** (full passes over the
# training set) with the Adam optimiser and the cross-entropy loss, measuring the accuracy on
# the validation set after each epoch. In a notebook it shows a **dashboard**: loss and accuracy
# curves growing live, progress and speed, and a Stop button that ends training cleanly after the
# current step (so does the kernel's interrupt ■ button) — the model and its history stay usable.

# %%
%%model model --input 1,1,8,8 --no-summary
Flatten()
Linear(64, 64)
ReLU()
Linear(64, 10)

# %%
history = nf.fit(model, train_loader, val=val_loader, epochs=8, optimizer="adam", lr=0.003,
                 loss="cross_entropy", metrics=["accuracy"])

# %% [markdown]
# `fit` returns a `History`: one row per epoch (and one per step, in `history.steps`).

# %%
print(history)
for row in history.epochs:
    print(f"epoch {row['epoch']}:  train loss {row['loss']:.3f}  accuracy {row['accuracy']:.1%}   "
          f"validation loss {row['val_loss']:.3f}  accuracy {row['val_accuracy']:.1%}")

# %% [markdown]
# How to read the curves:
#
# - the **training loss** falls steadily: the model fits the examples it sees;
# - the **validation loss** falls too while the model learns things that generalise. When
#   it flattens or rises while the training loss keeps falling, the model has started
#   memorising its training examples — **overfitting** — and more epochs won't help.
#
# `history.best_epoch()` is the epoch with the lowest validation loss, and `history.plot()` draws
# the curves again, as a picture that stays in the saved notebook.

# %%
print("best epoch by validation loss:", history.best_epoch())
history.plot()

# %% [markdown]
# ## The same loop, by hand
#
# `fit` is a convenience; the loop itself is short, and writing it yourself is how you do
# anything unusual (two models, custom losses, gradient clipping...). It is exactly what PyTorch
# users write every day:

# %%
nf.manual_seed(0)
model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = nf.optim.Adam(model.parameters(), lr=0.003)
loss_fn = nn.CrossEntropyLoss()


def evaluate(model, loader):
    """Average loss and accuracy over a loader, without recording gradients."""
    model.eval()                          # evaluation mode (matters for dropout, batch norm)
    total_loss, correct, count = 0.0, 0, 0
    with nf.no_grad():                    # no graph: faster, less memory
        for images, labels in loader:
            scores = model(images)
            total_loss += loss_fn(scores, labels).item() * len(labels)
            correct += (scores.argmax(dim=1) == labels).sum().item()
            count += len(labels)
    return total_loss / count, correct / count


dashboard = TrainingDashboard()          # the same dashboard, fed by hand
dashboard.start("by hand", epochs=8, steps_per_epoch=len(train_loader))
step = 0
for epoch in range(1, 9):
    model.train()                         # training mode
    for images, labels in train_loader:
        scores = model(images)            # 1. forward: predictions for the batch
        loss = loss_fn(scores, labels)    # 2. how wrong they are
        optimizer.zero_grad()             # 3. clear last step's gradients (they accumulate!)
        loss.backward()                   # 4. gradients of the loss for every parameter
        optimizer.step()                  # 5. move every parameter against its gradient
        step += 1
        dashboard.log(step, loss=loss.item())
    val_loss, val_accuracy = evaluate(model, val_loader)
    dashboard.log_epoch(epoch, val_loss=val_loss, val_accuracy=val_accuracy)
dashboard.finish()  # the picture above becomes the finished one (also in a saved notebook)

# %%
print(f"by hand, after 8 epochs: validation accuracy {val_accuracy:.1%}")

# %% [markdown]
# Each of the five lines matters. Forget `zero_grad()` and the gradients of all past batches pile
# up; forget `model.eval()` and dropout keeps dropping during evaluation; forget `no_grad()` and
# evaluation builds graphs it never uses.
#
# ## Optimisers, compared
#
# The optimiser decides how a gradient becomes a step. The main ones:
#
# - **SGD** (stochastic gradient descent): `weight -= lr * gradient`. Simple, and with a
#   well-tuned learning rate hard to beat, but slow on badly scaled problems.
# - **SGD with momentum**: keeps a running average of past gradients and steps along it, like a
#   ball rolling downhill: faster along consistent directions, damped across zig-zags.
# - **Adam**: momentum plus a per-parameter step size scaled by the recent size of that
#   parameter's gradients. Works well with little tuning: the usual first choice.
#
# Pass one dashboard as `progress=` to several `fit` calls, each with a `run=` name, and their
# curves are drawn on top of each other — the comparison TensorBoard is used for, inside the
# notebook.

# %%
def fresh_model():
    nf.manual_seed(0)              # the same starting weights for every run: a fair comparison
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


comparison = TrainingDashboard()
runs = {}
for name, make_optimizer in [
    ("SGD", lambda params: nf.optim.SGD(params, lr=0.05)),
    ("SGD + momentum", lambda params: nf.optim.SGD(params, lr=0.05, momentum=0.9)),
    ("Adam", lambda params: nf.optim.Adam(params, lr=0.003)),
]:
    model = fresh_model()
    runs[name] = nf.fit(model, train_loader, val=val_loader, epochs=6, optimizer=make_optimizer(model.parameters()),
                        progress=comparison, run=name)

# %%
for name, run in runs.items():
    print(f"{name:15} validation accuracy after each epoch: "
          + " ".join(f"{a:.0%}" for a in run.history["val_accuracy"]))

# %% [markdown]
# Plain SGD at this learning rate is the slowest starter; momentum and Adam get most of the way
# in the first epoch or two. (With enough epochs and tuning, all three end up in the same place
# on a problem this small.)
#
# ## Learning-rate schedules
#
# A large learning rate makes fast progress early but bounces around the bottom of the valley
# later; a small one is precise but slow. A **schedule** changes it during training: large first,
# smaller later. `nf.optim.lr_scheduler` has PyTorch's schedules; `fit` steps one each epoch
# through the `LRScheduler` callback (in your own loop, call `scheduler.step()` after each epoch).

# %%
schedules = TrainingDashboard()
model = fresh_model()
constant = nf.fit(model, train_loader, val=val_loader, epochs=8,
                  optimizer=nf.optim.SGD(model.parameters(), lr=0.2, momentum=0.9),
                  progress=schedules, run="constant lr 0.2")

model = fresh_model()
optimizer = nf.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
cosine = nf.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
annealed = nf.fit(model, train_loader, val=val_loader, epochs=8, optimizer=optimizer,
                  callbacks=[nf.train.LRScheduler(cosine)], progress=schedules, run="cosine from 0.2")
schedules          # both runs, overlaid

# %%
print("learning rate at each epoch (cosine):",
      [round(row["lr"], 3) for row in annealed.steps[::len(train_loader)]])
for name, run in [("constant", constant), ("cosine", annealed)]:
    print(f"{name:9} final validation loss {run.epochs[-1]['val_loss']:.3f}, "
          f"accuracy {run.epochs[-1]['val_accuracy']:.1%}")

# %% [markdown]
# The cosine schedule lowers the learning rate smoothly to zero by the last epoch, so the model
# settles into the bottom of the valley instead of bouncing around it: compare the two runs'
# last epochs above.
#
# ## The final exam
#
# Choices made — the last model, trained with the cosine schedule, is our pick — we measure it
# once on the test set, which played no part in any choice:

# %%
test_loss, test_accuracy = evaluate(model, DataLoader(test_set, batch_size=256))
print(f"test accuracy: {test_accuracy:.1%}")

# %% [markdown]
# ## Exercise
#
# 1. Train `fresh_model()` for 3 epochs with plain SGD and a learning rate of 2.0. What happens
#    to the loss? Compare it with $\ln 10 \approx 2.30$, the loss of a model that gives the ten
#    digits equal odds. (A learning rate that is too large either blows the loss up to `nan` or,
#    as here, knocks the model into a state where it stops learning.)
# 2. Add early stopping: `nf.train.EarlyStopping(monitor="val_loss", patience=2)` as a callback
#    to a 40-epoch Adam run. At which epoch does it stop, and why there?

# %% [solution]
model = fresh_model()
too_fast = nf.fit(model, train_loader, val=val_loader, epochs=3, progress=None,
                  optimizer=nf.optim.SGD(model.parameters(), lr=2.0))
print("loss per epoch with lr=2.0:", [round(loss, 2) for loss in too_fast.history["loss"]])
print("validation accuracy:", [f"{a:.0%}" for a in too_fast.history["val_accuracy"]], "- barely better than guessing")

model = fresh_model()
early = nf.fit(model, train_loader, val=val_loader, epochs=40, optimizer="adam", lr=0.003, progress=None,
               callbacks=[nf.train.EarlyStopping(monitor="val_loss", patience=2)])
print(early)
print("best epoch:", early.best_epoch(), "- it stopped after 2 epochs without a better validation loss")
