"""Bad arguments to the shaping, linear-algebra-helper and scatter ops raise what PyTorch raises."""
import pytest
import torch

import tinygrad_fer as tg

CASES = {
    "tril_1d": lambda L: L.tril(L.ones(3)),
    "roll_misaligned": lambda L: L.roll(L.ones(2, 2), (1, 2), (0,)),
    "roll_shifts_without_dims": lambda L: L.roll(L.ones(2, 2), (1, 2)),
    "movedim_repeated": lambda L: L.movedim(L.ones(2, 2), (0, 0), (0, 1)),
    "narrow_past_end": lambda L: L.narrow(L.ones(3), 0, 2, 2),
    "narrow_start_out_of_range": lambda L: L.narrow(L.ones(3), 0, 4, 0),
    "select_out_of_range": lambda L: L.select(L.ones(3), 0, 3),
    "hsplit_indivisible": lambda L: L.hsplit(L.ones(2, 3), 2),
    "vsplit_1d": lambda L: L.vsplit(L.ones(3), 1),
    "tensor_split_zero_sections": lambda L: L.tensor_split(L.ones(3), 0),
    "rot90_same_dims": lambda L: L.rot90(L.ones(2, 2), 1, (0, 0)),
    "diagonal_same_dims": lambda L: L.diagonal(L.ones(2, 2), 0, 1, 1),
    "diag_3d": lambda L: L.diag(L.ones(2, 2, 2)),
    "diag_embed_same_dims": lambda L: L.diag_embed(L.ones(2), 0, 0, 0),
    "broadcast_mismatch": lambda L: L.broadcast_tensors(L.ones(2), L.ones(3)),
    "meshgrid_2d": lambda L: L.meshgrid(L.ones(2, 2), indexing="ij"),
    "outer_2d": lambda L: L.outer(L.ones(2, 2), L.ones(2)),
    "inner_mismatch": lambda L: L.inner(L.ones(2), L.ones(3)),
    "tensordot_mismatch": lambda L: L.tensordot(L.ones(2), L.ones(3), 1),
    "take_out_of_range": lambda L: L.take(L.ones(3), L.tensor([3])),
    "take_int32_index": lambda L: L.take(L.ones(3), L.tensor([1], dtype=L.int32)),
    "masked_select_int_mask": lambda L: L.masked_select(L.ones(3), L.tensor([1, 0, 1])),
    "scatter_src_dtype": lambda L: L.scatter(L.ones(3), 0, L.tensor([0]), L.ones(1, dtype=L.float64)),
    "index_add_shape": lambda L: L.index_add(L.ones(3), 0, L.tensor([0]), L.ones(2)),
    "index_fill_1d_value": lambda L: L.index_fill(L.ones(3), 0, L.tensor([0]), L.ones(2)),
    "take_along_dim_out_of_range": lambda L: L.take_along_dim(L.ones(3, 2), L.tensor([[0]]), dim=3),
    "repeat_interleave_negative": lambda L: L.repeat_interleave(L.ones(3), -1),
    "vstack_empty": lambda L: L.vstack([]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_raises_like_torch(case):
    with pytest.raises(Exception) as theirs:
        CASES[case](torch)
    with pytest.raises(type(theirs.value)):
        CASES[case](tg)


def test_meshgrid_without_indexing_warns_like_torch():
    with pytest.warns(UserWarning, match="indexing"):
        torch.meshgrid(torch.ones(2), torch.ones(3))
    with pytest.warns(UserWarning, match="indexing"):
        grids = tg.meshgrid(tg.ones(2), tg.ones(3))
    assert [tuple(g.shape) for g in grids] == [(2, 3), (2, 3)]
