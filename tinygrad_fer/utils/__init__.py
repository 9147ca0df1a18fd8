"""Utilities: printing, model summary, graph drawing; `tinygrad_fer.utils.data` is the data package.

summary(model, input_shape) tabulates layers (output shape, parameters, activation memory, receptive field);
draw_graph(tensor, path) writes the autograd graph as Graphviz dot (and PNG/SVG when `dot` is installed);
metrics (confusion matrix, precision/recall), plots (matplotlib, optional) and progress (tqdm or a plain bar)
are imported by name: `from tinygrad_fer.utils import metrics`.
"""
from .graph import draw_graph, graph_to_dot
from .summary import summary

__all__ = ["draw_graph", "graph_to_dot", "summary"]
