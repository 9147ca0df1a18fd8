"""Tensor's op methods, assembled: each op family declares its methods in a mixin class beside its ops (`exp`,
`__add__`, `sum`, `reshape`, `__getitem__`, `add_`, ...), and Tensor inherits them all from TensorMethods.

tensor.py cannot import the ops (they import it), so it defines Tensor over a stand-in base, and this module, run by
the package's __init__ once the ops are loaded, puts TensorMethods in its place; static analysers read TensorMethods
as Tensor's base from tensor.py's TYPE_CHECKING import.
"""
from .ops.bitwise import BitwiseMethods
from .ops.blas import BlasMethods
from .ops.elementwise import ElementwiseMethods
from .ops.index import IndexMethods
from .ops.index_write import IndexWriteMethods
from .ops.inplace import InplaceMethods
from .ops.linalg_api import LinalgMethods
from .ops.matmul import MatmulMethods
from .ops.movement import MovementMethods
from .ops.positions import PositionMethods
from .ops.quantile import QuantileMethods
from .ops.reduce import ReduceMethods
from .ops.scan import ScanMethods
from .ops.search import SearchMethods
from .ops.sort import SortMethods
from .ops.stats import StatsMethods
from .ops.shape import ShapeMethods
from .tensor import Tensor


class TensorMethods(ElementwiseMethods, ReduceMethods, MovementMethods, IndexMethods, MatmulMethods, InplaceMethods,
                    ShapeMethods, ScanMethods, SearchMethods, SortMethods, StatsMethods, BlasMethods,
                    LinalgMethods, IndexWriteMethods, QuantileMethods, BitwiseMethods, PositionMethods):
    """Every op family's Tensor methods; no two families declare the same name."""
    __slots__ = ()


Tensor.__bases__ = (TensorMethods,)
