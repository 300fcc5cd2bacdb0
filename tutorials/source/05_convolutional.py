# %% [markdown]
# # 05 · Convolutional networks
#
# The models so far flattened each image into a row of 64 numbers, forgetting which pixels were
# neighbours. A **convolutional network** keeps the picture a picture: small filters slide across
# it and respond to local patterns — an edge, a corner, a loop — wherever they appear.
#
# In this notebook: what a convolution and a pooling layer compute, a small convolutional network
# on the digits, the classic LeNet-5, a small **ResNet** (skip connections), **data augmentation**,
# and the ready-made architectures in `nf.vision.models`.

# %%
import nbframe as nf
from nbframe import nn
from nbframe.nn import functional as F
from nbframe.utils.data import DataLoader
from nbframe.vision import models, transforms

%load_ext nbframe

# %% [markdown]
# We'll look at images as text: each pixel becomes a character, darker for larger values.

# %%
def show(image, title=""):
    """Print a 2-D tensor as characters: ' ' for its smallest values up to '@' for its largest."""
    shades = " .:-=+*#%@"
    low, high = image.min().item(), image.max().item()
    scaled = ((image - low) / max(high - low, 1e-8) * (len(shades) - 1)).round().long()
    print(title)
    for row in scaled.tolist():
        print(" ".join(shades[v] for v in row))


train_set = nf.datasets.Digits(train=True)
test_set = nf.datasets.Digits(train=False)
image, label = train_set[3]
show(image[0], f"a training image, label {label}:")

# %% [markdown]
# ## A convolution
#
# A convolution layer holds small **kernels** (here 3×3). Each kernel slides over the image; at
# every position it multiplies the 3×3 patch under it element by element with its own nine
# weights and sums them: one output pixel. The output is a new image, a **feature map**, bright
# where the patch looked like the kernel.
#
# Here is one kernel set by hand, which responds to dark-to-bright changes from left to right
# (a vertical edge detector). `F.conv2d` takes images as `(batch, channels, height, width)` and
# kernels as `(out_channels, in_channels, height, width)`; `padding=1` adds a border of zeros so
# that the output keeps the 8×8 size.

# %%
vertical_edges = nf.tensor([[-1.0, 0.0, 1.0],
                            [-2.0, 0.0, 2.0],
                            [-1.0, 0.0, 1.0]]).reshape(1, 1, 3, 3)
feature_map = F.conv2d(image.unsqueeze(0), vertical_edges, padding=1)
print("input", tuple(image.unsqueeze(0).shape), "-> feature map", tuple(feature_map.shape))
show(feature_map[0, 0].relu(), "where the image gets brighter to the right:")

# %% [markdown]
# In a network the kernels are not set by hand: they are parameters, learned like any weight.
# `nn.Conv2d(in_channels, out_channels, kernel_size)` holds `out_channels` kernels, and each
# looks at every input channel, so its output has `out_channels` feature maps.
#
# Two properties make convolutions the right tool for images:
#
# - **few parameters**: the same nine weights are used at every position (a `Linear` from 64
#   pixels to 64 outputs needs 4,096);
# - **the same detector everywhere**: a pattern is found wherever it is in the image, not
#   only where it was during training.
#
# ## Pooling
#
# A **max-pooling** layer keeps the largest value in each 2×2 block, halving height and width:
# a summary that says "the pattern was somewhere around here", and less to compute in the next
# layer.

# %%
pooled = F.max_pool2d(feature_map, 2)
print(tuple(feature_map.shape), "->", tuple(pooled.shape))
show(pooled[0, 0].relu(), "pooled:")

# %% [markdown]
# ## A small convolutional network
#
# The usual pattern: convolution, ReLU, pooling, repeated — the maps get smaller and more
# numerous (more kinds of pattern, each more abstract) — then flatten and a `Linear` layer to the
# ten scores. Watch the shapes in the summary:

# %%
%%model cnn --input 1,1,8,8
conv1 = Conv2d(1, 16, 3, padding=1)    # 16 maps of 8x8
ReLU()
MaxPool2d(2)                            # 16 maps of 4x4
conv2 = Conv2d(16, 32, 3, padding=1)   # 32 maps of 4x4
ReLU()
MaxPool2d(2)                            # 32 maps of 2x2
Flatten()                               # 128 numbers
head = Linear(128, 10)

# %% [markdown]
# We'll train several models in this notebook, so here is the loop from tutorial 04 as a
# function: a few **epochs** (passes over the training images) of Adam, then the test accuracy.

# %%
test_images = nf.stack([image for image, _ in test_set])
test_labels = nf.tensor([label for _, label in test_set])


def accuracy(model, images=test_images, labels=test_labels):
    model.eval()
    with nf.no_grad():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


def train(model, data, epochs, lr=0.01):
    nf.manual_seed(0)
    optimizer = nf.optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(data, batch_size=64, shuffle=True)
    for _ in range(epochs):
        model.train()
        for images, labels in loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


train(cnn, train_set, epochs=6)
print(f"convolutional network: {accuracy(cnn):.1%} test accuracy "
      f"with {sum(p.numel() for p in cnn.parameters()):,} parameters")

# %% [markdown]
# Compare with tutorial 03's fully connected network, trained the same way:

# %%
nf.manual_seed(0)
mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
train(mlp, train_set, epochs=6)
print(f"fully connected network: {accuracy(mlp):.1%} test accuracy "
      f"with {sum(p.numel() for p in mlp.parameters()):,} parameters")

# %% [markdown]
# On 8×8 images the two are close: 64 pixels hold little spatial structure for convolutions to
# exploit. Their advantage grows with the images — nobody classifies photographs with fully
# connected layers — and we'll see below a case where the picture changes.
#
# What did the first layer learn? Each of `conv1`'s sixteen kernels made a feature map; here are
# four of them for the digit from the start:

# %%
with nf.no_grad():
    maps = cnn.conv1(image.unsqueeze(0)).relu()[0]
for channel in range(4):
    show(maps[channel], f"conv1 map {channel}:")

# %% [markdown]
# ## LeNet-5
#
# LeNet-5 (Yann LeCun and colleagues, 1998) read the digits on bank cheques, and is still the
# first convolutional network people meet. `nf.vision.models.lenet5()` builds it for 28×28
# images like MNIST's; our digits are 8×8, so we enlarge them once with `F.interpolate` (bilinear:
# each new pixel a blend of its neighbours).

# %%
lenet = models.lenet5()
print(nf.summary(lenet, (1, 1, 28, 28)))

# %%
with nf.no_grad():
    big_train = F.interpolate(nf.stack([image for image, _ in train_set]), size=(28, 28), mode="bilinear")
    big_test = F.interpolate(test_images, size=(28, 28), mode="bilinear")
big_train_set = nf.utils.data.TensorDataset(big_train, nf.tensor([label for _, label in train_set]))
show(big_test[0, 0, ::2, ::2], "an enlarged test digit (every other pixel):")

train(lenet, big_train_set, epochs=3, lr=0.003)
print(f"LeNet-5: {accuracy(lenet, big_test):.1%} test accuracy")

# %% [markdown]
# Three epochs keep this notebook quick; LeNet has ten times the parameters of our small network
# and keeps improving with more (try `epochs=8`).
#
# ## A small ResNet: skip connections
#
# Stacking more layers should let a network learn more, but very deep plain stacks train
# *worse*: the gradient has to pass through every layer on its way back, and shrinks or grows at
# each (tutorial 06 shows this happening). ResNets (He et al., 2015) add a **skip connection**
# around every pair of convolutions: the block computes `x + F(x)`, so the gradient has a direct
# path back and each block only learns a correction to its input.
#
# `nf.vision.models.ResNet` builds them from `BasicBlock`s. Here a small one for our 8×8
# digits: two stages of one block each. (`resnet20()` and `resnet18()` are the standard sizes.)

# %%
resnet = models.ResNet([1, 1], num_classes=10, widths=(16, 32), small_input=True, in_channels=1)
print(resnet.layer2)   # the second stage: one BasicBlock

# %% [markdown]
# Inside a `BasicBlock` (printed above): convolution, **batch normalisation** (it rescales each channel to
# mean 0 and variance 1 over the batch, which keeps deep networks trainable), ReLU, convolution,
# batch normalisation — then the block's input is added back, and a last ReLU. In the second stage
# the block halves the image size, so its skip connection needs a `downsample` (a 1×1 convolution)
# to match shapes.

# %%
train(resnet, train_set, epochs=4)
print(f"small ResNet: {accuracy(resnet):.1%} test accuracy "
      f"with {sum(p.numel() for p in resnet.parameters()):,} parameters")

# %% [markdown]
# Batch normalisation behaves differently in training (statistics of the current batch) and in
# evaluation (running averages collected during training): that is why `accuracy` calls
# `model.eval()` and `train` calls `model.train()`. Forgetting `eval()` is a classic bug.
#
# ## Data augmentation
#
# With only 1,438 training images a network can memorise them. **Augmentation** shows it a
# slightly different version of each image every epoch — shifted, flipped, recoloured — so it
# must learn what doesn't change. For digits a shift by a pixel is safe (a flip is not: a
# mirrored 2 is no longer a 2). `transforms.RandomCrop(8, padding=1)` pads the image by one
# pixel and cuts a random 8×8 window from it. Datasets take a `transform`, applied each time an
# image is read:

# %%
augmented_set = nf.datasets.Digits(train=True, transform=transforms.RandomCrop(8, padding=1))
nf.manual_seed(1)
for attempt in range(3):
    show(augmented_set[3][0][0], f"training image 3, read again ({attempt + 1}):")

# %%
def fresh_cnn():
    """The `cnn` architecture above, with fresh weights."""
    nf.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10),
    )


cnn_augmented = train(fresh_cnn(), augmented_set, epochs=6)
print(f"test accuracy: plain {accuracy(cnn):.1%}, augmented {accuracy(cnn_augmented):.1%}")

# %% [markdown]
# On the test set as it is, augmentation does not pay: these digits were all scanned and
# centred the same way, so the test images never look shifted, and the augmented network spent
# part of its six epochs on a harder task. Now test both on **shifted** test digits — the
# situation augmentation prepares for (a camera that doesn't centre, say):

# %%
nf.manual_seed(2)
shifted_test = nf.datasets.Digits(train=False, transform=transforms.RandomCrop(8, padding=1))
shifted_images = nf.stack([image for image, _ in shifted_test])
print(f"shifted test digits: plain {accuracy(cnn, shifted_images):.1%}, "
      f"augmented {accuracy(cnn_augmented, shifted_images):.1%}")

# %% [markdown]
# The plain network falls apart when digits move by a pixel: its convolutions find the patterns
# anywhere, but its last layer learned *where* they sit in a centred digit. The augmented network
# was shown moved digits and copes. Augment with the variations your real data will have.
#
# ## Ready-made architectures: `nf.vision.models`
#
# The well-known architectures are built with torchvision's names, so weights and code carry
# over. They are sized for bigger images than ours (ImageNet's 224×224, CIFAR's 32×32).
# (`vgg11()` is there too; at 133 million parameters it takes half a gigabyte just to build.)

# %%
for name, build in [("lenet5", models.lenet5), ("resnet20", models.resnet20),
                    ("resnet18", models.resnet18), ("mobilenet_v2", models.mobilenet_v2)]:
    model = build()
    print(f"{name:13} {sum(p.numel() for p in model.parameters()):>12,} parameters")

# %% [markdown]
# ## Exercise
#
# 1. Train `fresh_cnn()` for 12 epochs on `augmented_set`. Does it catch up with the plain
#    network on the test set as it is, and does it keep its lead on the shifted digits?
# 2. Remove the second `MaxPool2d` from the `cnn` model in a `%%model` cell, keeping
#    `Linear(128, 10)`. What does the error say, and what must the `Linear` layer become?

# %% [solution]
longer = train(fresh_cnn(), augmented_set, epochs=12)
print(f"12 epochs, augmented: test {accuracy(longer):.1%}, shifted test {accuracy(longer, shifted_images):.1%}")
print(f"6 epochs, plain:       test {accuracy(cnn):.1%}, shifted test {accuracy(cnn, shifted_images):.1%}")

# %% [solution]
%%model cnn_no_pool --input 1,1,8,8
Conv2d(1, 16, 3, padding=1)
ReLU()
MaxPool2d(2)
Conv2d(16, 32, 3, padding=1)
ReLU()
Flatten()                   # now 32 maps of 4x4 = 512 numbers
Linear(512, 10)             # Linear(128, 10) fails, and the error suggests Linear(512, 10)
