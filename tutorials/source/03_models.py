# %% [markdown]
# # 03 · Models with `%%model`
#
# A **model** is a function with learnable numbers inside — its **parameters** — built from
# **layers**. In this notebook you will define models two ways: one layer a line in a
# `%%model` cell (quick to write and to change, with a summary of every layer's shapes), and as a
# Python class (the way PyTorch code is written, and what `%%model` builds for you). You will also
# learn to read the summary, to read a shape error, and to change a model without losing what it
# has learned.

# %%
import nbframe as nf
from nbframe import nn

%load_ext nbframe

# %% [markdown]
# ## A layer
#
# The workhorse is `nn.Linear(in_features, out_features)`: it multiplies its input by a weight
# matrix and adds a bias, $y = x W^T + b$. Its weight and bias are its parameters, created at
# random and changed by training. The input's *last* dimension must be `in_features`; any leading
# dimensions (usually the batch) pass through.

# %%
nf.manual_seed(0)
layer = nn.Linear(4, 3)
print("weight", tuple(layer.weight.shape), " bias", tuple(layer.bias.shape))
batch = nf.randn(2, 4)                 # 2 examples, 4 features each
print(layer(batch))
print("by hand:", batch @ layer.weight.T + layer.bias)

# %% [markdown]
# Stacking Linear layers alone gives nothing new — a linear function of a linear function is
# linear. Between them go **activations**, simple non-linear functions applied element by
# element; `ReLU` ($\max(0, x)$) is the usual one.
#
# ## A stack: one layer a line
#
# In a `%%model NAME` cell, each line is a layer. The layers run top to bottom, each one's output
# feeding the next, and the result is bound to `NAME`. With `--input SHAPE` the cell runs the
# model once on zeros of that shape (batch first) and prints the summary.
#
# A classifier for the 8×8 digit images of `nf.datasets.Digits`:

# %%
%%model mlp --input 1,1,8,8
Flatten()               # (1, 1, 8, 8) -> (1, 64): one row of pixels per image
Linear(64, 32)
ReLU()
Linear(32, 10)          # ten scores: one per digit

# %% [markdown]
# How to read the summary:
#
# - **Output shape** is what each layer hands to the next, for the example input. The batch
#   size (1 here) is first and passes through every layer unchanged.
# - **Param #** counts a layer's learnable numbers: `Linear(64, 32)` holds a 32×64 weight plus
#   32 biases. Flatten and ReLU have none.
# - **Params size** is their memory (4 bytes each in float32), and the activations estimate is
#   the memory of the outputs kept for training.
#
# The layers were named `0`, `1`, `2`, ... by position. Name them with `name = Layer(...)`; the
# names show in the summary, and become attributes of the model:

# %%
%%model mlp --input 1,1,8,8
Flatten()
hidden = Linear(64, 32)
ReLU()
head = Linear(32, 10)

# %%
print(mlp)
print("head weight:", tuple(mlp.head.weight.shape))

# %% [markdown]
# ## When the shapes don't fit
#
# The most common mistake in building a network is a layer that expects a different size than
# the one before it produces. Here the hidden layer gives 32 numbers, but the head was written for
# 16:

# %% [raises]
%%model mlp --input 1,1,8,8
Flatten()
hidden = Linear(64, 32)
ReLU()
head = Linear(16, 10)

# %% [markdown]
# The message names the cell line and the layer, the shape it got and the one it expected, and
# proposes the fix. A failed cell leaves the previous `mlp` untouched, so nothing is lost.
#
# ## A graph: layers and a `forward`
#
# Not every model is a straight stack. Give named layers, then a `def forward(x)` that says how
# data flows through them, and `%%model` builds a model whose forward is your function. Functions
# like `relu` (from `nbframe.nn.functional`) and plain Python work inside it.
#
# This one adds a **skip connection** (the idea behind ResNets, tutorial 05): the hidden layer's
# output is added back to its input, so the block only has to learn a correction.

# %%
%%model residual --input 1,1,8,8
flatten = Flatten()
inner = Linear(64, 64)
head = Linear(64, 10)

def forward(x):
    x = flatten(x)
    x = x + relu(inner(x))      # the skip connection
    return head(x)

# %% [markdown]
# ## Changing a model without losing its training: `--keep-weights`
#
# Re-running a `%%model` cell builds fresh, random layers. While you experiment, you may want to
# change *part* of a trained model — add a layer, change the head — and keep what the rest has
# learned. `--keep-weights` copies the old weights into every layer whose name and shapes are
# unchanged.
#
# First, a quick training of `mlp` (the loop is explained in tutorial 04):

# %%
from nbframe.utils.data import DataLoader

train_set = nf.datasets.Digits(train=True)
test_images = nf.stack([image for image, _ in nf.datasets.Digits(train=False)])
test_labels = nf.tensor([label for _, label in nf.datasets.Digits(train=False)])


def accuracy(model):
    with nf.no_grad():
        return (model(test_images).argmax(dim=1) == test_labels).float().mean().item()


def train(model, epochs=3):
    nf.manual_seed(0)
    optimizer = nf.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        for images, labels in DataLoader(train_set, batch_size=64, shuffle=True):
            loss = nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


train(mlp)
print(f"test accuracy after training: {accuracy(mlp):.1%}")

# %% [markdown]
# Now add dropout before the head (it randomly zeroes inputs during training, a guard against
# memorising the training set). The `hidden` and `head` layers keep their names and shapes:

# %%
%%model mlp --input 1,1,8,8 --keep-weights
Flatten()
hidden = Linear(64, 32)
ReLU()
Dropout(0.2)
head = Linear(32, 10)

# %%
mlp.eval()        # evaluation mode: dropout off
print(f"test accuracy, new model, no further training: {accuracy(mlp):.1%}")

# %% [markdown]
# The accuracy carried over: the new model started from the trained weights. Without
# `--keep-weights` it would be back to guessing.
#
# ## The same model as a Python class
#
# What `%%model` builds is an ordinary `nn.Module`, PyTorch's way of writing models, and
# outside a notebook you write the class yourself: create the layers in `__init__` (assigning them
# to `self` registers their parameters), and say how data flows in `forward`. Calling the
# model runs `forward`.

# %%
class ResidualNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.inner = nn.Linear(64, 64)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        x = self.flatten(x)
        x = x + nn.functional.relu(self.inner(x))
        return self.head(x)


net = ResidualNet()
print(nf.summary(net, (1, 1, 8, 8)))

# %% [markdown]
# Same layers, same names, same parameter count as `residual` above. Because the names match,
# their **state dicts** — the dictionary of every parameter by name, which is what gets saved to
# a file — are interchangeable:

# %%
print(list(residual.state_dict()))
net.load_state_dict(residual.state_dict())
x = nf.randn(3, 1, 8, 8)
print("largest difference between the two outputs:", (net(x) - residual(x)).abs().max().item())

# %% [markdown]
# Both styles give the same kind of object: train, save, move to a GPU or inspect them the same
# way. Use the cell while you sketch; move to a class when the model goes into a library.
#
# `model.parameters()` hands the parameters to an optimiser; `named_parameters()` says whose they
# are:

# %%
for name, parameter in net.named_parameters():
    print(f"{name:14} {tuple(parameter.shape)}")
print("total:", sum(p.numel() for p in net.parameters()))

# %% [markdown]
# ## Exercise
#
# 1. Write a `%%model` cell `deep` with two hidden layers of 48 and 24 units (ReLU after each)
#    for the 8×8 digits, and check in its summary that the parameter total is
#    $64 \cdot 48 + 48 + 48 \cdot 24 + 24 + 24 \cdot 10 + 10$.
# 2. Write the same model as a class `Deep(nn.Module)` with layers named `fc1`, `fc2`, `fc3`,
#    and confirm it has the same number of parameters.

# %% [solution]
%%model deep --input 1,1,8,8
Flatten()
fc1 = Linear(64, 48)
ReLU()
fc2 = Linear(48, 24)
ReLU()
fc3 = Linear(24, 10)

# %% [solution]
print("by hand:", 64 * 48 + 48 + 48 * 24 + 24 + 24 * 10 + 10)

class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 48)
        self.fc2 = nn.Linear(48, 24)
        self.fc3 = nn.Linear(24, 10)

    def forward(self, x):
        x = x.flatten(start_dim=1)
        x = nn.functional.relu(self.fc1(x))
        x = nn.functional.relu(self.fc2(x))
        return self.fc3(x)


print("class:", sum(p.numel() for p in Deep().parameters()))
