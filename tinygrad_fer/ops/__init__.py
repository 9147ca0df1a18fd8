"""One module per op family; each op's forward and backward (vector-Jacobian) rule side by side."""
