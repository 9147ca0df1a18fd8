"""All parameters as one flat vector and back, as torch.nn.utils.parameters_to_vector / vector_to_parameters."""
from ...tensor import Tensor
from ...ops.movement import cat


def _check_same_device(params):
    devices = {str(p.device) for p in params}
    if len(devices) > 1:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")


def parameters_to_vector(parameters):
    params = list(parameters)
    _check_same_device(params)
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    if not isinstance(vec, Tensor):
        kind = type(vec)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"expected torch.Tensor, but got: {name}")
    params = list(parameters)
    _check_same_device(params)
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
