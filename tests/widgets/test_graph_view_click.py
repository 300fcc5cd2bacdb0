"""GraphView's click-to-inspect: the anywidget picture's ``selected`` trait and the dropdown pick the
same node and fill the same details panel; without anywidget the view keeps the dropdown alone."""

import re
import sys

import pytest
from nbframe.widgets import GraphView, graph_click

import nbframe as nf


def _view() -> GraphView:
    nf.manual_seed(0)
    model = nf.nn.Sequential(nf.nn.Linear(4, 16), nf.nn.ReLU(), nf.nn.Linear(16, 3))
    view = GraphView(model, nf.randn(2, 4))
    view.widget  # noqa: B018
    return view


def _node_id(view: GraphView, label: str) -> str:
    return next(node.id for node in view.graph.nodes if node.label.startswith(label))


def test_the_esm_module_ships_beside_the_python_and_listens_for_node_clicks():
    source = graph_click.ESM.read_text()
    assert graph_click.ESM.parent.name == "widgets" and "export default" in source
    assert 'closest("g.node")' in source and "title" in source and 'model.set("selected"' in source
    assert not re.search(r"""(from|import)\s*\(?\s*["']https?:""", source)  # no CDN: nothing fetched


def test_a_click_sets_selected_and_python_fills_the_panel_and_the_dropdown():
    pytest.importorskip("anywidget")
    view = _view()
    picture, picker, info = (view._parts[name] for name in ("picture", "picker", "info"))
    weight = _node_id(view, "0.weight")
    picture.selected = weight  # what graph_click.js does when the node is clicked
    assert picker.value == weight
    assert "[16, 4]" in info.value and "float32" in info.value and "std" in info.value
    assert 'class="bar"' in info.value  # the histogram


def test_picking_in_the_dropdown_outlines_the_node_in_the_picture_with_the_same_details():
    pytest.importorskip("anywidget")
    view = _view()
    bias = _node_id(view, "2.bias")
    view._parts["picker"].value = bias
    assert view._parts["picture"].selected == bias
    assert view._parts["info"].value == view.details(bias)  # one code path for click and pick


def test_a_click_on_something_not_in_the_graph_keeps_the_current_selection():
    pytest.importorskip("anywidget")
    view = _view()
    weight = _node_id(view, "0.weight")
    view.select(weight)
    view._parts["picture"].selected = "legend_vanishing"
    assert view._parts["picker"].value == weight and view._parts["picture"].selected == weight


def test_select_from_python_refuses_an_unknown_node_and_none_clears_the_panel():
    pytest.importorskip("anywidget")
    view = _view()
    with pytest.raises(ValueError, match="no node 'n999'"):
        view.select("n999")
    view.select(_node_id(view, "0.weight"))
    view.select(None)
    assert view._parts["picture"].selected == "" and "click a node" in view._parts["info"].value


def test_refolding_keeps_a_selection_that_is_still_drawn_and_drops_one_that_is_folded_away():
    pytest.importorskip("anywidget")
    view = _view()
    view.select(_node_id(view, "input"))
    view._on_depth({"new": 0})  # ids are renumbered: the input's id changes, it stays picked
    picked = _node_id(view, "input")
    assert view._parts["picker"].value == picked and view._parts["picture"].selected == picked
    view._on_depth({"new": 1})
    view.select(_node_id(view, "0.weight"))
    view._on_depth({"new": 0})  # the weight is inside a folded box now
    assert view._parts["picker"].value is None and view._parts["picture"].selected == ""
    assert "svg" in view._parts["picture"].value


def test_without_anywidget_the_view_keeps_the_dropdown_and_an_html_picture(monkeypatch):
    import ipywidgets

    monkeypatch.setitem(sys.modules, "anywidget", None)  # import anywidget -> ImportError
    view = _view()
    picture = view._parts["picture"]
    assert type(picture) is ipywidgets.HTML and "<svg" in picture.value
    view._parts["picker"].value = _node_id(view, "0.weight")
    assert "[16, 4]" in view._parts["info"].value
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()


def test_the_display_keeps_its_static_svg_and_text_fallback_with_the_clickable_picture():
    pytest.importorskip("anywidget")
    view = _view()
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    if view.svg is not None:
        assert bundle["image/svg+xml"] == view.svg and bundle["text/plain"] == view.graph.text()
