"""BPNet's profile head over the output only equals the whole-window convolution cropped."""

from __future__ import annotations

import pytest
import torch

from genomicdl.kinds.signal_layout import profile_tasks
from genomicdl.models.networks.bpnet import BPNet


@pytest.mark.parametrize(("window", "output", "width"), [(1000, 500, 75), (200, 100, 74), (100, 100, 75), (64, 2, 9)])
def test_profile_head_over_the_output_equals_the_cropped_whole_window(window: int, output: int, width: int) -> None:
    torch.manual_seed(0)
    tasks = profile_tasks(["a.fwd", "a.rev"], output)
    net = BPNet(len(tasks), window, tasks=tasks, filters=8, layers=2, profile_width=width, output_length=output)
    h = torch.randn(3, 8, window)
    lo = (window - output) // 2
    whole = net.profile(h)[:, :, lo : lo + output]
    torch.testing.assert_close(net.profile_logits(h), whole, rtol=1e-5, atol=1e-5)
    assert net(torch.randn(3, 4, window)).shape == (3, 2 * output)


def test_count_head_pooled_over_the_output_sees_only_the_output() -> None:
    """count_pool output: the predicted total does not move when the flanks outside the
    output's trunk receptive field change; count_pool window: it does. A bad name is an error."""
    torch.manual_seed(0)
    tasks = profile_tasks(["a"], 100)
    kwargs = {"tasks": tasks, "filters": 8, "layers": 2, "stem_width": 5, "profile_width": 9, "output_length": 100}
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (2, 1000)), 4).float().transpose(1, 2)
    y = x.clone()
    y[:, :, :300] = torch.roll(y[:, :, :300], 1, dims=1)  # flanks far (> 300 bp) from the output (450-550)
    for pool, moves in (("output", False), ("window", True)):
        net = BPNet(len(tasks), 1000, count_pool=pool, **kwargs).eval()
        with torch.no_grad():
            total_x, total_y = torch.logsumexp(net(x), -1), torch.logsumexp(net(y), -1)
        assert bool((total_x - total_y).abs().max() > 1e-6) is moves
    with pytest.raises(ValueError, match="count_pool"):
        BPNet(len(tasks), 1000, count_pool="global", **kwargs)
