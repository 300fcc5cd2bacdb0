"""Each graph pass on small hand-made graphs: what it removes or merges, and that results stay equal."""

import numpy as np

import nbframe as nf
from nbframe.jit.passes import run_passes
from nbframe.jit.passes.fusion import FusedElementwise


def traced(fn, *inputs):
    return nf.jit.trace(fn, inputs, passes=())


def labels(graph):
    return [n.label for n in graph.nodes]


def test_dce_removes_unused_nodes():
    def fn(x):
        unused = x.exp() * 3  # noqa: F841
        return x + 1

    gm = traced(fn, nf.randn(3))
    assert labels(gm.graph) == ["exp", "mul", "add"]
    run_passes(gm.graph, ["dce"])
    assert labels(gm.graph) == ["add"]
    assert gm.graph.passes == ["dce: removed 2 node(s) and 0 constant(s)"]


def test_cse_merges_identical_calls():
    def fn(x):
        return x.exp() + x.exp()

    x = nf.randn(4)
    gm = traced(fn, x)
    run_passes(gm.graph, ["cse", "dce"])
    assert labels(gm.graph) == ["exp", "add"]
    np.testing.assert_allclose(gm(x).numpy(), fn(x).numpy())


def test_constant_folding_computes_constant_subgraphs_once():
    table = nf.arange(4.0)

    def fn(x):
        return x * (table.exp() + 1)

    x = nf.randn(4)
    gm = traced(fn, x)
    run_passes(gm.graph, ["constant_folding"])
    assert labels(gm.graph) == ["mul"]
    assert "folded 2 node(s)" in gm.graph.passes[0]
    np.testing.assert_allclose(gm(x).numpy(), fn(x).numpy(), rtol=1e-6)


def fused_chain(x, b):
    return ((x * 2.0 + b).relu() - 0.5).tanh().sigmoid()


def test_fusion_makes_one_node_of_an_elementwise_chain_with_equal_values():
    x, b = nf.randn(5, 3), nf.randn(3)
    gm = traced(fused_chain, x, b)
    run_passes(gm.graph, ["fusion"])
    assert len(gm.graph.nodes) == 1 and isinstance(gm.graph.nodes[0].fn, FusedElementwise)
    assert gm.graph.nodes[0].label == "fused[mul, add, relu, sub, tanh, sigmoid]"
    with nf.no_grad():
        np.testing.assert_allclose(gm(x, b).numpy(), fused_chain(x, b).numpy(), rtol=1e-6)


def test_fused_graph_gives_eager_gradients():
    x = nf.randn(5, 3, requires_grad=True)
    b = nf.randn(3, requires_grad=True)
    gm = traced(fused_chain, x, b)
    run_passes(gm.graph, ["fusion"])
    gm(x, b).sum().backward()
    gx, gb = x.grad.numpy().copy(), b.grad.numpy().copy()
    x.grad = b.grad = None
    fused_chain(x, b).sum().backward()
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gb, b.grad.numpy(), rtol=1e-6)


def test_fusion_stops_where_an_intermediate_has_two_readers():
    def fn(x):
        y = x * 2
        return (y + 1).relu() * y

    gm = traced(fn, nf.randn(3))
    run_passes(gm.graph, ["fusion"])
    assert labels(gm.graph) == ["mul", "fused[add, relu, mul]"]


def test_table_after_fusion_names_only_live_values():
    def fn(x):
        h = x * 3.0
        a = h * nf.sigmoid(h)
        return (a + a).tanh()   # two fused chains: add reads a twice, so it starts the second

    gm = nf.jit.trace(fn, nf.randn(4, 2), passes=("dce", "cse", "fusion"))
    graph = gm.graph
    defined = {v.name for v in graph.inputs + graph.params + graph.constants}
    for node in graph.nodes:
        read = {v.name for v in node.inputs()}
        assert read <= defined, f"row {node.name} reads {sorted(read - defined)}, which no row defines"
        assert [v.name for v in node.outputs] == [node.name]
        defined.add(node.name)
    rows = graph.table()
    fused = [r for r in rows if r[2].startswith("fused[")]
    assert [r[2] for r in fused] == ["fused[sigmoid, mul]", "fused[add, tanh]"]
    assert fused[1][3] == f"({fused[0][1]})"   # the second reads the first chain's own output
    assert rows[-1][3] == f"({fused[1][1]})"


def test_fused_kernel_expression_for_the_gpu_template():
    gm = traced(fused_chain, nf.randn(2), nf.randn(2))
    run_passes(gm.graph, ["fusion"])
    expression = gm.graph.nodes[0].fn.expression()
    assert "a0" in expression and "a1" in expression and "tanh(" in expression


def test_buffer_reuse_shares_buffers_between_dead_values_and_keeps_results():
    def fn(x):
        a = (x * 2).relu()
        b = a.sum(1, keepdim=True)  # a dies here
        c = (x - b).exp()  # can take a's buffer
        d = c.sum(1, keepdim=True)
        return (x + d).tanh()

    x = nf.randn(4, 6)
    gm = traced(fn, x)
    run_passes(gm.graph, ["fusion", "buffer_reuse"])
    assert "2 fused output(s) in 1 preallocated buffer(s); 96 bytes reused" in gm.graph.passes[-1]
    with nf.no_grad():
        want = fn(x).numpy()
        first = gm(x).numpy().copy()
        second = gm(x * 1).numpy()
    np.testing.assert_allclose(first, want, rtol=1e-6)
    np.testing.assert_allclose(second, want, rtol=1e-6)


def test_unknown_pass_names_the_known_ones():
    gm = traced(lambda x: x + 1, nf.randn(2))
    try:
        run_passes(gm.graph, ["inline"])
    except ValueError as error:
        assert "dce" in str(error) and "inline" in str(error)
    else:
        raise AssertionError("no error")
