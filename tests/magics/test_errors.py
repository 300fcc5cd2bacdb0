"""The mistakes learners really make, and the short messages %%model answers them with.

Each message names the cell line (the %%model line is line 1), quotes the layer
as written, gives the shape it got and the one it wanted, and suggests a fix,
in a few lines and without a traceback.
"""

from __future__ import annotations

from nbframe.magics.cell_error import CellError

from nbframe import nn

from .conftest import needs_layers

pytestmark = needs_layers


def shown_error(ran) -> str:
    """The error as the user sees it, checked to be short and traceback-free."""
    assert not ran.success
    assert isinstance(ran.error, CellError), ran.stdout
    text = ran.stdout.strip()
    assert "Traceback" not in text and "File " not in text
    assert 1 <= len(text.splitlines()) <= 4, text
    return text


def test_wrong_in_features_names_line_layer_shapes_and_the_fix(run):
    text = shown_error(run("%%model net --input 2,4\nfc1 = Linear(4, 16)\nReLU()\nfc2 = Linear(9, 3)\n"))
    first = text.splitlines()[0]
    assert first.startswith("ShapeError: cell line 4: Linear(9, 3)")
    assert "wants 9 input features, got 16 (input of shape [2, 16])" in first
    assert "fc2 = Linear(9, 3)" in text
    assert text.splitlines()[-1] == "did you mean Linear(16, 3)?"


def test_wrong_in_features_written_with_keywords_keeps_the_keywords(run):
    text = shown_error(run("%%model net --input 2,4\nLinear(4, 16)\nLinear(in_features=9, out_features=3)\n"))
    assert "did you mean Linear(in_features=16, out_features=3)?" in text


def test_forgetting_flatten_before_linear_says_flatten_is_missing(run):
    text = shown_error(run("%%model net --input 2,1,28,28\nLinear(784, 10)\n"))
    assert ("cell line 2: Linear(784, 10) wants 784 features in the last dimension, "
            "got input of shape [2, 1, 28, 28]") in text
    assert "a Flatten() is missing before this layer" in text


def test_forgetting_flatten_after_a_conv_also_gives_the_right_size(run):
    text = shown_error(run("%%model net --input 2,1,8,8\nConv2d(1, 4, 3)\nReLU()\nLinear(100, 10)\n"))
    assert "cell line 4" in text and "[2, 4, 6, 6]" in text
    assert "add Flatten() before it; then did you mean Linear(144, 10)?" in text


def test_conv2d_channel_mismatch_suggests_the_channels_it_got(run):
    text = shown_error(run("%%model cnn --input 2,1,28,28\nConv2d(1, 8, 3)\nReLU()\n"
                           "conv2 = Conv2d(16, 32, 3)\n"))
    assert "cell line 4" in text
    assert "Conv2d(16, 32, 3) wants 16 input channels, got 8 (input of shape [2, 8, 26, 26])" in text
    assert text.splitlines()[-1] == "did you mean Conv2d(8, 32, 3)?"


def test_conv2d_on_a_flat_input_says_it_wants_four_dimensions(run):
    text = shown_error(run("%%model cnn --input 2,784\nConv2d(1, 8, 3)\n"))
    assert "wants a 4-D input (N, C, H, W), got input of shape [2, 784]" in text


def test_a_typo_in_a_layer_name_offers_the_closest_names(run):
    text = shown_error(run("%%model net\nLinear(4, 16)\nLinaer(16, 3)\n"))
    assert text.splitlines()[0] == "NameError: cell line 3: unknown layer 'Linaer'"
    assert "did you mean Linear" in text


def test_a_typo_in_the_case_of_a_layer_name_finds_it(run):
    text = shown_error(run("%%model net\nReLU()\nConv2D(1, 2, 3)\n"))
    assert "did you mean Conv2d" in text


def test_a_typo_in_an_argument_is_an_unknown_name_not_layer(run):
    text = shown_error(run("%%model net\nhidden = 16\nLinear(4, hiden)\n"))
    assert "unknown name 'hiden'" in text and "did you mean hidden" in text


def test_a_missing_parenthesis_is_a_syntax_error_on_its_cell_line(run):
    text = shown_error(run("%%model net\nLinear(4, 16)\nLinear(16, 3\nReLU()\n"))
    assert text.splitlines()[0].startswith("SyntaxError: cell line 3:")
    assert "Linear(16, 3" in text


def test_bad_layer_arguments_are_reported_on_their_line(run):
    text = shown_error(run("%%model net\nLinear(4)\n"))
    assert text.startswith("LayerError: cell line 2: could not build this layer") and "Linear(4)" in text


def test_a_shape_error_in_graph_form_points_at_the_layer_and_the_forward_line(run):
    text = shown_error(run("""%%model net --input 2,4
fc1 = Linear(4, 16)
fc2 = Linear(9, 3)
def forward(x):
    h = fc1(x)
    return fc2(h)
"""))
    assert "cell line 3" in text and "called from forward, cell line 6" in text
    assert "did you mean Linear(16, 3)?" in text


def test_an_unknown_name_inside_forward_is_found_at_its_line(run):
    text = shown_error(run("%%model net --input 2,4\nfc1 = Linear(4, 3)\n"
                           "def forward(x):\n    return fc1(x) + bais\n"))
    assert "cell line 4" in text and "unknown name 'bais'" in text


def test_an_unnamed_layer_in_graph_form_is_refused(run):
    text = shown_error(run("%%model net\nLinear(4, 3)\ndef forward(x):\n    return x\n"))
    assert "every layer needs a name" in text and "cell line 2" in text


def test_a_cell_without_layers_says_what_a_cell_holds(run):
    text = shown_error(run("%%model net\n# nothing yet\n"))
    assert "no layers" in text


def test_a_bad_input_shape_option_is_a_usage_error(run):
    text = shown_error(run("%%model net --input 2x4\nLinear(4, 3)\n"))
    assert "--input 2x4" in text and "1,28,28" in text


def test_an_unknown_option_is_a_usage_error(run):
    ran = run("%%model net --inputs 2,4\nLinear(4, 3)\n")
    assert not ran.success and "Traceback" not in ran.stdout + ran.stderr


def test_batch_norm_with_the_wrong_channel_count_suggests_the_right_one(run):
    text = shown_error(run("%%model cnn --input 2,3,8,8\nConv2d(3, 8, 3)\nBatchNorm2d(16)\n"))
    assert "cell line 3" in text and "BatchNorm2d(16) wants 16 channels (dimension 1), got 8" in text
    assert text.splitlines()[-1] == "did you mean BatchNorm2d(8)?"


def test_layer_norm_over_the_wrong_size_suggests_the_last_dimension(run):
    text = shown_error(run("%%model net --input 2,5\nLinear(5, 6)\nLayerNorm(5)\n"))
    assert "LayerNorm(5) normalises the last dimensions [5], got input of shape [2, 6]" in text
    assert text.splitlines()[-1] == "did you mean LayerNorm(6)?"


def test_a_failure_inside_the_users_own_block_names_the_inner_layer(shell, run):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(7, 2)

        def forward(self, x):
            return self.inner(x)

    shell.user_ns["Block"] = Block
    text = shown_error(run("%%model net --input 2,4\nLinear(4, 5)\nblock = Block()\n"))
    assert "cell line 3" in text and "block.inner (Linear) wants 7 input features, got 5" in text
    assert "did you mean Linear(5, 2)?" in text
