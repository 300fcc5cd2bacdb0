"""GraphView in JupyterLab: the SVG renders every node; clicking a node, or picking it in the dropdown, shows
its tensor's statistics."""

from __future__ import annotations

import re

from .notebook_ui import errors_shown, expect, open_notebook, outputs, run_all, write_notebook

SETUP = """\
%load_ext nbframe
import nbframe as nf
from nbframe import nn
from nbframe.widgets import GraphView
nf.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
view = GraphView(model, nf.randn(2, 4))
print("nodes:", len(view.graph.nodes))"""


def test_the_graph_renders_its_nodes_and_a_picked_node_shows_its_statistics(page, lab, artifacts):
    open_notebook(page, lab, write_notebook(lab, "graph_view.ipynb", [SETUP, "view"]))
    run_all(page)
    assert errors_shown(page) == []
    expected = int(re.search(r"nodes: (\d+)", outputs(page, 0).inner_text()).group(1))
    assert expected >= 9  # input, two linear ops, relu, four parameters, output
    graph = outputs(page, 1)
    expect(graph.locator("svg g.node")).to_have_count(expected)
    expect(graph.locator("svg g.node", has_text="0.weight")).to_have_count(1)
    picker = graph.locator(".widget-dropdown select")
    option = next(text for text in picker.locator("option").all_inner_texts() if "0.weight" in text)
    picker.select_option(label=option)
    details = graph.locator(".widget-html", has_text="0.weight").last
    for statistic in ("shape", "[16, 4]", "float32", "min", "max", "mean", "std"):
        expect(details).to_contain_text(statistic)
    expect(details.locator("svg")).to_have_count(1)  # the histogram
    page.screenshot(path=str(artifacts / "graph-view.png"), full_page=True)


def test_clicking_a_node_in_the_svg_shows_its_statistics_and_picks_it_in_the_dropdown(page, lab, artifacts):
    open_notebook(page, lab, write_notebook(lab, "graph_click.ipynb", [SETUP, "view"]))
    run_all(page)
    assert errors_shown(page) == []
    graph = outputs(page, 1)
    node = graph.locator("svg g.node", has_text="2.weight")
    node.locator("text").first.click()
    details = graph.locator(".widget-html", has_text="2.weight").last
    for statistic in ("[3, 16]", "float32", "min", "max", "mean", "std"):
        expect(details).to_contain_text(statistic)
    expect(details.locator("svg")).to_have_count(1)  # the histogram
    expect(node).to_have_class(re.compile(r"\bnbframe-selected\b"))  # outlined in the picture
    picker = graph.locator(".widget-dropdown select")
    expect(picker.locator("option:checked")).to_contain_text("2.weight")
    page.screenshot(path=str(artifacts / "graph-view-clicked.png"), full_page=True)
    # and back: a node picked in the dropdown is outlined in the picture instead
    option = next(text for text in picker.locator("option").all_inner_texts() if "0.bias" in text)
    picker.select_option(label=option)
    expect(graph.locator("svg g.node", has_text="0.bias")).to_have_class(re.compile(r"\bnbframe-selected\b"))
    expect(graph.locator("svg g.node.nbframe-selected")).to_have_count(1)
    expect(graph.locator(".widget-html", has_text="0.bias").last).to_contain_text("[16]")


def test_the_depth_slider_folds_the_modules_into_boxes(page, lab, artifacts):
    open_notebook(page, lab, write_notebook(lab, "graph_depth.ipynb", [SETUP, "view"]))
    run_all(page)
    graph = outputs(page, 1)
    unfolded = int(re.search(r"nodes: (\d+)", outputs(page, 0).inner_text()).group(1))
    expect(graph.locator("svg g.node")).to_have_count(unfolded)
    graph.locator(".widget-slider .noUi-handle").focus()
    page.keyboard.press("ArrowLeft")  # depth 1 -> 0: every layer folds into one box
    expect(graph.locator(".widget-slider .widget-readout")).to_have_text("0")
    expect(graph.locator("svg g.node", has_text="weight")).to_have_count(0)
    folded = graph.locator("svg g.node").count()
    assert 3 <= folded < unfolded, f"depth 0 shows {folded} nodes (unfolded: {unfolded})"
    page.screenshot(path=str(artifacts / "graph-view-folded.png"), full_page=True)
