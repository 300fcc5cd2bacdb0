// GraphView's click-to-inspect: draws the graph's SVG (the "value" trait, HTML made in Python) and
// reports a click on a graphviz node by setting the "selected" trait to the node's id, which graphviz
// writes as the <title> of each <g class="node">. Python answers by filling the details panel; a node
// picked from Python (the dropdown) comes back through "selected" and is outlined here.

const STYLE = `
.nbframe-graph-click g.node { cursor: pointer; }
.nbframe-graph-click g.node:hover :is(polygon, ellipse, path) { stroke-width: 2; }
.nbframe-graph-click g.node.nbframe-selected :is(polygon, ellipse, path) { stroke: #e4572e; stroke-width: 3; }
`;

function nodeId(node) {
  const title = node.querySelector(":scope > title");
  return title === null ? null : title.textContent.trim();
}

function render({ model, el }) {
  el.classList.add("nbframe-graph-click");
  const style = document.createElement("style");
  style.textContent = STYLE;
  const picture = document.createElement("div");
  el.append(style, picture);

  const outline = () => {
    const selected = model.get("selected");
    for (const node of picture.querySelectorAll("g.node")) {
      node.classList.toggle("nbframe-selected", selected !== "" && nodeId(node) === selected);
    }
  };
  const draw = () => {
    picture.innerHTML = model.get("value");
    outline();
  };
  const onClick = (event) => {
    const node = event.target.closest("g.node");
    const id = node === null ? null : nodeId(node);
    if (id === null || id === "") return;
    model.set("selected", id);
    model.save_changes();
    outline();
  };

  picture.addEventListener("click", onClick);
  model.on("change:value", draw);
  model.on("change:selected", outline);
  draw();
  return () => {
    picture.removeEventListener("click", onClick);
    model.off("change:value", draw);
    model.off("change:selected", outline);
  };
}

export default { render };
