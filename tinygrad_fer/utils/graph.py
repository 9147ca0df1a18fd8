"""draw_graph(tensor, path): the recorded autograd graph behind a tensor as Graphviz dot, rendered to PNG/SVG/PDF
by the `dot` program when it is installed."""
import os
import shutil
import subprocess
import sys

_RENDERED = (".png", ".svg", ".pdf")


def _shape(t):
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def _quote(s):
    return '"' + str(s).replace('"', '\\"') + '"'


def graph_to_dot(tensor, params=None, name="autograd"):
    """Dot source of the graph that produced tensor: one box per Function node (its class name), one ellipse per
    leaf tensor that requires grad (its shape; its name when params, a dict name -> tensor such as
    dict(model.named_parameters()), holds it), and the output tensor on top. Edges point from inputs to the op.
    Inputs that need no gradient are not part of the graph (nodes keep no reference to them), as in torchviz."""
    from ..tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph expects a Tensor, got {type(tensor).__name__}")
    names = {id(t): n for n, t in (params or {}).items()}
    lines = [f"digraph {name} {{", '  rankdir=BT;', '  node [fontname="Helvetica", fontsize=10];']
    ids = {}

    def node_id(obj):
        return ids.setdefault(id(obj), f"n{len(ids)}")

    out = node_id(tensor)
    label = _quote("output\\n" + _shape(tensor))
    lines.append(f'  {out} [label={label}, shape=ellipse, style=filled, fillcolor="#cde8ff"];')
    if tensor._ctx is None:
        lines.append("}")
        return "\n".join(lines) + "\n"
    lines.append(f"  {node_id(tensor._ctx)} -> {out};")
    stack, seen = [tensor._ctx], set()
    while stack:   # iterative: deep graphs would hit the recursion limit
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        lines.append(f"  {node_id(fn)} [label={_quote(type(fn).__name__)}, shape=box, style=filled, "
                     f'fillcolor="#eeeeee"];')
        for p in getattr(fn, "edges", ()):
            if not isinstance(p, Tensor):  # another node, or no edge
                if not hasattr(p, "edges"):
                    continue
                lines.append(f"  {node_id(p)} -> {node_id(fn)};")
                stack.append(p)
                continue
            leaf = node_id(p)
            if id(p) not in seen:
                seen.add(id(p))
                label = (names[id(p)] + "\\n" if id(p) in names else "") + _shape(p)
                lines.append(f"  {leaf} [label={_quote(label)}, shape=ellipse, style=filled, fillcolor=\"#d8f5d0\"];")
            lines.append(f"  {leaf} -> {node_id(fn)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_graph(tensor, path, params=None):
    """Write the graph behind tensor to path. A .dot (or any other) extension gets the dot text; .png, .svg or
    .pdf also writes the dot text next to it (same name, .dot) and renders it with Graphviz's `dot` when that is
    on PATH, else prints a note and renders nothing. Returns the dot source."""
    src = graph_to_dot(tensor, params)
    root, ext = os.path.splitext(path)
    dot_path = root + ".dot" if ext.lower() in _RENDERED else path
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(dot_path, "w") as f:
        f.write(src)
    if ext.lower() in _RENDERED:
        exe = shutil.which("dot")
        if exe is None:
            print(f"draw_graph: Graphviz 'dot' is not installed, wrote only {dot_path} "
                  f"(render it with: dot -T{ext[1:].lower()} {dot_path} -o {path})", file=sys.stderr)
            return src
        tmp = f"{root}.tmp{ext}"
        try:
            subprocess.run([exe, f"-T{ext[1:].lower()}", dot_path, "-o", tmp], check=True, capture_output=True,
                           timeout=120)
            os.replace(tmp, path)
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"dot failed on {dot_path}: {e.stderr.decode(errors='replace').strip()}") from e
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return src
