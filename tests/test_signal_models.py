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
