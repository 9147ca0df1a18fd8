"""Tensor's methods are declared, not attached: each op family's methods live in a mixin class in its ops module,
Tensor inherits them (tinygrad_fer/_tensor_api.py), so help(), dir() and static analysers see them all; and the
modules that make up the class import each other without a cycle."""
import ast
import pathlib
import pydoc

import tinygrad_fer as tg
from tinygrad_fer import Tensor

PKG = pathlib.Path(tg.__file__).parent

# dir(Tensor) before the methods moved into mixins (issue 15): every one of them must still be there
BEFORE = """
T __abs__ __add__ __and__ __array__ __array_priority__ __bool__ __class__ __delattr__ __dir__ __doc__ __eq__
__float__ __floordiv__ __format__ __ge__ __getattribute__ __getitem__ __getstate__ __gt__ __hash__ __iadd__
__ifloordiv__ __imod__ __imul__ __index__ __init__ __init_subclass__ __int__ __invert__ __ipow__ __isub__ __iter__
__itruediv__ __le__ __len__ __lt__ __matmul__ __mod__ __module__ __mul__ __ne__ __neg__ __new__ __or__ __pow__
__radd__ __reduce__ __reduce_ex__ __repr__ __rfloordiv__ __rmatmul__ __rmod__ __rmul__ __rpow__ __rsub__
__rtruediv__ __setattr__ __setitem__ __sizeof__ __slots__ __str__ __sub__ __subclasshook__ __truediv__ __weakref__
__xor__ _array _be _check_inplace _ctx _inplace _overwrite _record_write _rg _sync_view _version _view _write abs
abs_ add add_ all allclose amax amin any argmax argmin backward bmm bool ceil ceil_ chunk clamp clamp_ clip clip_
clone contiguous copy_ cos cos_ cpu cuda data data_ptr detach detach_ device dim div div_ divide divide_ dot double
dtype element_size elu eq eq_ equal exp exp_ expand expand_as expm1 expm1_ fill_ flatten flip float floor floor_
floor_divide floor_divide_ fmod fmod_ gather ge ge_ grad grad_fn gt gt_ half index_select int is_contiguous is_cuda
is_floating_point is_leaf isfinite isinf isnan item le le_ leaky_relu log log1p log1p_ log_ log_softmax logical_and
logical_and_ logical_not logical_not_ logical_or logical_or_ logsumexp long lt lt_ mT masked_fill masked_fill_
matmul max maximum mean min minimum mm mul mul_ ndim ne ne_ neg neg_ nelement normal_ numel numpy permute pow pow_
prod reciprocal reciprocal_ relu relu_ remainder remainder_ repeat requires_grad requires_grad_ reshape reshape_as
retain_grad round round_ rsqrt rsqrt_ shape sigmoid sigmoid_ sign sign_ sin sin_ size softmax softplus split sqrt
sqrt_ square square_ squeeze std stride sub sub_ sum swapaxes swapdims t tanh tanh_ to tolist transpose type unbind
unflatten uniform_ unsqueeze var view view_as where zero_
""".split()


def test_every_method_of_before_is_still_there():
    assert len(BEFORE) == 257
    assert [n for n in BEFORE if n not in dir(Tensor)] == []


def _class_body_names(path, class_name):
    """The names a class statement binds in its own body (defs, assignments, tuple targets), read from source."""
    tree = ast.parse(path.read_text())
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == class_name)
    names = set()
    for st in node.body:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(st.name)
        elif isinstance(st, (ast.Assign, ast.AnnAssign)):
            for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                names.update(e.id for e in ast.walk(t) if isinstance(e, ast.Name))
    return names


def _source(cls):
    return pathlib.Path(__import__(cls.__module__, fromlist=["_"]).__file__)


def test_nothing_attaches_methods_to_the_classes_from_outside():
    # what each class in Tensor's MRO holds is exactly what its class statement declares: no module sets
    # Tensor.<name> (or a mixin's) after the fact, so reading the class bodies tells the whole API
    mixins = [c for c in Tensor.__mro__ if c is not object]
    assert len(mixins) > 3, "Tensor should inherit its op methods from per-family mixins"
    implicit = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__hash__", "__slots__",
                "__slotnames__",  # copyreg caches it on the class when a Tensor is first pickled or deep-copied
                "_array", "_rg", "grad", "_ctx", "_version", "_view", "_meta"}  # class machinery, Tensor's slots
    for cls in mixins:
        declared = _class_body_names(_source(cls), cls.__name__)
        held = set(vars(cls)) - implicit
        assert held <= declared, f"{cls.__name__} gained {sorted(held - declared)} from outside its class body"


def test_op_methods_come_from_the_op_modules():
    # a sample from each family: the method is the op module's own function or a method of its mixin
    for name, module in [("exp", "elementwise"), ("__add__", "elementwise"), ("sum", "reduce"),
                         ("reshape", "movement"), ("__getitem__", "index"), ("matmul", "matmul"),
                         ("add_", "inplace"), ("__setitem__", "inplace"), ("exp_", "inplace")]:
        owner = next(c for c in Tensor.__mro__ if name in vars(c))
        assert owner.__module__ == f"tinygrad_fer.ops.{module}", (name, owner)


def test_help_shows_the_methods():
    text = pydoc.render_doc(Tensor, renderer=pydoc.plaintext)
    methods = [n for n in BEFORE if callable(getattr(Tensor, n, None)) and not n.startswith("_")
               and not isinstance(getattr(Tensor, n), type)]
    missing = [n for n in methods if f" {n}(" not in text and f" {n} = " not in text]
    assert len(methods) > 150 and missing == []


def _module_imports(path, pkg_parts):
    """Modules of this package that `path` imports when it is loaded (module level, TYPE_CHECKING blocks skipped;
    imports inside functions run later and cannot make a cycle at import time)."""
    tree = ast.parse(path.read_text())
    found = set()

    def visit(body):
        for st in body:
            if isinstance(st, ast.If) and "TYPE_CHECKING" in ast.unparse(st.test):
                visit(st.orelse)
                continue
            if isinstance(st, (ast.If, ast.Try)):
                visit(st.body)
                visit(getattr(st, "orelse", []))
                for h in getattr(st, "handlers", []):
                    visit(h.body)
                visit(getattr(st, "finalbody", []))
            elif isinstance(st, ast.Import):
                found.update(a.name for a in st.names if a.name.startswith("tinygrad_fer"))
            elif isinstance(st, ast.ImportFrom):
                # level 1 is the module's own package, each further level one package up
                base = pkg_parts[:len(pkg_parts) - st.level + 1] if st.level else []
                mod = ".".join(base + (st.module.split(".") if st.module else []))
                if mod.startswith("tinygrad_fer"):
                    found.add(mod)
                    found.update(f"{mod}.{a.name}" for a in st.names)  # `from . import x` imports module x
    visit(tree.body)
    return found


def test_no_import_cycle_among_tensor_autograd_ops_dtypes():
    mods = {}
    for path in list(PKG.glob("*.py")) + list(PKG.glob("ops/*.py")) + list(PKG.glob("autograd/*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        pkg_parts = parts if path.name == "__init__.py" else parts[:-1]
        mods[".".join(parts)] = path, pkg_parts
    graph = {m: {d for d in _module_imports(p, pp) if d in mods and d != m} for m, (p, pp) in mods.items()}
    graph["tinygrad_fer"] = set()       # every submodule import loads the package first: not an edge of interest
    for m in graph:
        graph[m].discard("tinygrad_fer")
        graph[m].discard("tinygrad_fer.ops")
    core = {"tinygrad_fer.tensor", "tinygrad_fer.autograd", "tinygrad_fer.dtypes"} | \
        {m for m in mods if m.startswith("tinygrad_fer.ops.")}

    def reaches(src, dst, seen):
        for d in graph[src]:
            if d == dst:
                return True
            if d not in seen:
                seen.add(d)
                if reaches(d, dst, seen):
                    return True
        return False
    assert "tinygrad_fer.tensor" in core and len(core) > 8
    cyclic = sorted(m for m in core if reaches(m, m, set()))
    assert cyclic == [], f"import cycles through {cyclic}"
    # tensor.py itself imports no op module and not autograd (they import it)
    assert not {d for d in graph["tinygrad_fer.tensor"] if d.startswith("tinygrad_fer.ops")
                or d == "tinygrad_fer.autograd"}


def test_methods_behave_as_before():
    # the operators, reflected operators and in-place forms reach the same ops as the functions
    x = tg.tensor([1.0, -2.0, 4.0])
    assert (2 - x).tolist() == [1.0, 4.0, -2.0] and (2 / x).tolist() == [2.0, -1.0, 0.5]
    assert (x + 1).tolist() == (1 + x).tolist() == [2.0, -1.0, 5.0]
    assert (2 ** tg.tensor([1.0, 2.0])).tolist() == [2.0, 4.0] and (7 % tg.tensor([4, 5])).tolist() == [3, 2]
    assert (7 // tg.tensor([2, 3])).tolist() == [3, 2]
    assert x.where(x > 0, 0.0).tolist() == [1.0, 0.0, 4.0]
    m = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert (tg.tensor([1.0, 1.0]) @ m).tolist() == [4.0, 6.0]
    assert m.view_as(tg.zeros(4)).tolist() == m.reshape_as(tg.zeros(4)).tolist() == [1.0, 2.0, 3.0, 4.0]
    y = x.clone()
    y.exp_()
    assert y.tolist() == x.exp().tolist()
    y = x.clone()
    y += 1
    y -= tg.tensor([1.0, 1.0, 1.0])
    y *= 2
    y /= 2
    assert y.tolist() == x.tolist()
    y.add_(x, alpha=2)
    assert y.tolist() == [3.0, -6.0, 12.0]
    i = tg.tensor([7, 8])
    i %= 3
    i //= 2
    assert i.tolist() == [0, 1]
