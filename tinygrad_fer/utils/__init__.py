"""Utilities: printing, model summary, graph drawing; `tinygrad_fer.utils.data` is the data package."""
