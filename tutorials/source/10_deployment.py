# %% [markdown]
# # 10 · Deployment: saving, loading, exporting
#
# A trained model is only useful once it leaves the notebook: saved so that training can resume,
# loaded by a colleague, or run in an application that has no Python at all. This notebook covers
#
# - saving and loading **weights** (the state dict), and a **checkpoint** to resume training;
# - why nbframe's files can't run code, unlike pickles;
# - exporting to **ONNX**, the common format that runtimes on servers, phones and browsers read,
#   and running the export with **onnxruntime**.
#
# Everything is written to the current folder.

# %%
import pickle

import numpy as np

import nbframe as nf
from nbframe import nn
from nbframe.utils.data import DataLoader

%load_ext nbframe

# %% [markdown]
# First, a model worth deploying: tutorial 05's small convolutional network, trained for a few
# epochs on the digits.

# %%
def digits_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10),
    )


nf.manual_seed(0)
model = digits_cnn()
optimizer = nf.optim.Adam(model.parameters(), lr=0.01)
nf.fit(model, DataLoader(nf.datasets.Digits(train=True), batch_size=64, shuffle=True),
                 epochs=5, optimizer=optimizer, progress=None)

test_set = nf.datasets.Digits(train=False)
test_images = nf.stack([image for image, _ in test_set])
test_labels = nf.tensor([label for _, label in test_set])


def accuracy(predict):
    return (predict(test_images).argmax(dim=1) == test_labels).float().mean().item()


model.eval()
with nf.no_grad():
    print(f"trained model: {accuracy(model):.1%} test accuracy")

# %% [markdown]
# ## Saving and loading weights
#
# A model's learned numbers live in its **state dict**: parameter name → tensor. Save that, not
# the model object; to load, build the same architecture in code and pour the weights in. (This
# is PyTorch's recommended practice too, and it means a file never has to contain code.)

# %%
nf.save(model.state_dict(), "digits_cnn.nbf")

restored = digits_cnn()                       # fresh, random weights
restored.load_state_dict(nf.load("digits_cnn.nbf"))
restored.eval()
with nf.no_grad():
    print(f"restored model: {accuracy(restored):.1%} test accuracy")
    print("largest difference in outputs:", (restored(test_images) - model(test_images)).abs().max().item())

# %% [markdown]
# If the architecture doesn't match the file, `load_state_dict` says which names are missing or
# unexpected and which shapes differ, instead of loading garbage:

# %% [raises]
wider = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(128, 10),
)
wider.load_state_dict(nf.load("digits_cnn.nbf"))

# %% [markdown]
# ## Checkpoints: resuming training
#
# To continue training later you need more than the weights: the optimiser's state (Adam keeps
# running averages for every parameter) and where you were. A checkpoint is a dictionary of all
# of it. `nf.save` writes to a temporary file and renames it when complete, so a crash in the
# middle of saving never leaves a half-written checkpoint behind.

# %%
nf.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 5},
        "checkpoint.nbf")

checkpoint = nf.load("checkpoint.nbf")
resumed = digits_cnn()
resumed.load_state_dict(checkpoint["model"])
resumed_optimizer = nf.optim.Adam(resumed.parameters(), lr=0.01)
resumed_optimizer.load_state_dict(checkpoint["optimizer"])
print("resuming after epoch", checkpoint["epoch"])
more = nf.fit(resumed, DataLoader(nf.datasets.Digits(train=True), batch_size=64, shuffle=True),
              epochs=2, optimizer=resumed_optimizer, progress=None)
resumed.eval()
with nf.no_grad():
    print(f"after 2 more epochs: {accuracy(resumed):.1%} test accuracy")

# %% [markdown]
# ## Files that can't run code
#
# PyTorch's classic `torch.save` format is a Python *pickle*, and unpickling a file can run any
# code its author put in it: loading a model downloaded from a stranger is running their
# program. nbframe's files hold only arrays and a small JSON header, and `nf.load` refuses
# pickles outright:

# %%
with open("suspicious.pt", "wb") as file:
    pickle.dump({"weights": [1.0, 2.0]}, file)

try:
    nf.load("suspicious.pt")
except Exception as error:
    print(type(error).__name__ + ":", error)

# %% [markdown]
# ## Exporting to ONNX
#
# Saved weights need nbframe (and the model's Python code) to be used. **ONNX** (Open Neural
# Network Exchange) stores the whole computation — the graph *and* the weights — in a standard
# format that many runtimes execute: onnxruntime on servers and phones, browsers, inference
# chips. This is where the static graph of tutorial 07 pays off: `nf.onnx.export` traces the model
# on an example input and writes the graph. `dynamic_batch=True` lets the exported model accept
# any batch size.

# %%
nf.onnx.export(model, test_images[:1], "digits_cnn.onnx", dynamic_batch=True)

import onnx  # noqa: E402  (the [onnx] extra: pip install "nbframe[onnx]")

exported = onnx.load("digits_cnn.onnx")
onnx.checker.check_model(exported)            # a valid ONNX file
print("operations:", [node.op_type for node in exported.graph.node])
print("input:", exported.graph.input[0].name,
      [d.dim_param or d.dim_value for d in exported.graph.input[0].type.tensor_type.shape.dim])

# %% [markdown]
# The graph is the model's layers, one ONNX operation each (`Gemm` is ONNX's name for a
# `Linear`; `Reshape` is the `Flatten`; the final `Identity` gives the output its name), and the
# input's first dimension is the symbolic `batch`.
#
# ## Running it without nbframe: onnxruntime
#
# onnxruntime knows nothing of nbframe: it reads the file and runs it on NumPy arrays. This is
# what a deployed application would do.

# %%
import onnxruntime  # noqa: E402

session = onnxruntime.InferenceSession("digits_cnn.onnx", providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
(scores,) = session.run(None, {input_name: test_images.numpy()})
print("onnxruntime output:", scores.shape)
print(f"onnxruntime accuracy: {(scores.argmax(axis=1) == test_labels.numpy()).mean():.1%}")
with nf.no_grad():
    print("largest difference from nbframe:", np.abs(scores - model(test_images).numpy()).max())

# %% [markdown]
# The same answers, up to float32 rounding in the last digits. The `.onnx` file is now all an
# application needs.
#
# Not every operation has an ONNX equivalent; when one doesn't, `export` raises
# `nf.onnx.UnsupportedOperatorError` naming the operation, rather than writing a file that
# would fail later.
#
# ## Exercise
#
# Export the model again with `dynamic_batch=False` (the default) to `fixed.onnx`. Run it with
# onnxruntime on a single image, then on a batch of 5. What happens, and when would a fixed
# batch size be what you want?

# %% [solution]
nf.onnx.export(model, test_images[:1], "fixed.onnx")
fixed = onnxruntime.InferenceSession("fixed.onnx", providers=["CPUExecutionProvider"])
name = fixed.get_inputs()[0].name
print("one image:", fixed.run(None, {name: test_images[:1].numpy()})[0].shape)
try:
    fixed.run(None, {name: test_images[:5].numpy()})
except Exception as error:        # onnxruntime checks the declared input shape
    print("five images:", type(error).__name__, str(error).splitlines()[0][:120])
# A fixed shape lets some runtimes and accelerators plan memory and kernels ahead of time.
