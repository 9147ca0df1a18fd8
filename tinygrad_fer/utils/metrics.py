"""Classification metrics from a confusion matrix: accuracy, per-class precision and recall, a text table.

Inputs may be Tensors, numpy arrays or lists of integer labels. The confusion matrix follows the usual convention:
rows are the true class, columns the prediction, so cm[i, j] counts samples of class i predicted as j.
"""
import numpy as np


def _labels(x, name):
    a = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of class indices, got shape {a.shape}")
    if a.size and a.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer class indices, got dtype {a.dtype}")
    return a.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes=None):
    """int64 (C, C) matrix with cm[t, p] = number of samples of true class t predicted as p.
    num_classes defaults to 1 + the largest label seen."""
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {t.shape[0]} and {p.shape[0]}")
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got y_true in [{t.min()}, {t.max()}] and "
                         f"y_pred in [{p.min()}, {p.max()}]")
    # one bincount over the flattened (true, pred) pair index
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _check_cm(cm):
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix must be square (C, C), got shape {cm.shape}")
    return cm


def accuracy(cm_or_true, y_pred=None):
    """Fraction correct: accuracy(cm) from a confusion matrix, or accuracy(y_true, y_pred) from labels.
    0.0 for no samples."""
    if y_pred is not None:
        t, p = _labels(cm_or_true, "y_true"), _labels(y_pred, "y_pred")
        if t.shape != p.shape:
            raise ValueError(f"y_true and y_pred must have the same length, got {t.shape[0]} and {p.shape[0]}")
        return float((t == p).mean()) if t.size else 0.0
    cm = _check_cm(cm_or_true)
    total = cm.sum()
    return float(np.trace(cm) / total) if total else 0.0


def _safe_ratio(num, den, zero_division):
    out = np.full(num.shape, float(zero_division))
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision_recall(cm, zero_division=0.0):
    """(precision, recall), float64 arrays of length C, from a confusion matrix.
    precision[c] = cm[c, c] / column sum c (of the samples predicted c, the fraction truly c);
    recall[c]    = cm[c, c] / row sum c    (of the samples of class c, the fraction found).
    A class never predicted (precision) or absent (recall) gets zero_division."""
    cm = _check_cm(cm).astype(np.float64)
    tp = np.diag(cm)
    return _safe_ratio(tp, cm.sum(axis=0), zero_division), _safe_ratio(tp, cm.sum(axis=1), zero_division)


def f1_score(cm, zero_division=0.0):
    """Per-class harmonic mean of precision and recall (zero_division where both are 0)."""
    p, r = precision_recall(cm, zero_division=0.0)
    return _safe_ratio(2 * p * r, p + r, zero_division)


def format_confusion_table(cm, class_names=None, zero_division=0.0):
    """The confusion matrix as text (rows true, columns predicted) with each row's recall and each class's
    precision in two extra columns, then the overall accuracy."""
    cm = _check_cm(cm)
    c = cm.shape[0]
    names = [str(n) for n in (class_names if class_names is not None else range(c))]
    if len(names) != c:
        raise ValueError(f"{len(names)} class names for a {c}x{c} confusion matrix")
    prec, rec = precision_recall(cm, zero_division)
    short = [n[:6] for n in names]
    w = max(6, len(str(int(cm.max(initial=0)))))
    corner = "true\\pred"
    lw = max(len(n) for n in names + [corner])
    head = f"{corner:<{lw}} " + " ".join(f"{s:>{w}}" for s in short) + f" {'recall':>7} {'precis':>7}"
    lines = [head]
    for i in range(c):
        row = " ".join(f"{int(v):>{w}d}" for v in cm[i])
        lines.append(f"{names[i]:<{lw}} {row} {rec[i]:>7.3f} {prec[i]:>7.3f}")
    lines.append(f"accuracy {accuracy(cm):.4f} ({int(np.trace(cm))}/{int(cm.sum())})")
    return "\n".join(lines)
