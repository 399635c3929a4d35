"""Training throughput of the protein networks against this machine's compute bound.

For each network (deeploc, light_attention for localisation; cnn_birnn, dilated per
residue) at each length (all rows of a batch that long, random one-hot residues):
residues/s of full training steps (forward, loss, backward, Adam step) on one thread,
and the FLOPs per residue of its layers, counted analytically from forward hooks
(Conv1d, Linear: 2 x MACs; LSTM/GRU cells: 2 x gates x hidden x (input + hidden) per
step and direction; element-wise work, softmax and normalisation are not counted), times 3
for a training step (backward ~ 2x forward). ``achieved`` = training FLOPs per residue x
residues/s; ``bound`` = the rate of a float32 matmul (512^3) and of a conv1d training
step (64 -> 64 channels, width 9) measured in the same run; ``of bound`` = achieved / the
larger of those two rates.

Timed: the training steps after ``--warmup`` untimed ones (process CPU time and wall).
Not timed: building the model, the data (made once, in memory), the FLOP count.
The recurrent layers alone: GRU and LSTM, packed, padded, and through ``run_rnn`` (how
the networks run them: padding never enters the state). Options (``--options``): the
same on one network with 2 threads, torch.compile and bf16 autocast (each where this
build runs it; a failure is printed, not hidden).

    PYTHONPATH=. python bench/protein_throughput.py --lengths 400 1000 --steps 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.models.networks.recurrent import run_rnn

#: Network -> (target kind, number of classes): DeepLoc 1.0's 10 locations, Q8.
NETWORKS = {"deeploc": ("multiclass", 10), "light_attention": ("multiclass", 10),
            "cnn_birnn": ("per_position", 8), "dilated": ("per_position", 8)}  # fmt: skip
#: Parameters per network: dilated with no pooling, 5 blocks: receptive field 15 + 2 x 31 = 77.
PARAMS = {"dilated": {"pool": 1, "layers": 5, "channels": 64}}
GATES = {nn.LSTM: 4, nn.GRU: 3}


def make_model(name: str, length: int) -> nn.Module:
    kind, classes = NETWORKS[name]
    target = Target(kind, ("y",), tuple(f"c{i}" for i in range(classes)), "default")
    return build_network(name, target=target, window=length, alphabet="protein", variable=True,
                         params=PARAMS.get(name))  # fmt: skip


def make_batch(batch: int, length: int, classes: int, per_position: bool) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(batch, 20, length)
    x.scatter_(1, torch.randint(0, 20, (batch, 1, length), generator=gen), 1.0)
    y = torch.randint(0, classes, (batch, length) if per_position else (batch,), generator=gen)
    return x, torch.full((batch,), length), y


def count_flops(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> float:
    """Forward FLOPs of one batch: convolutions and linear layers as their hooks see them
    run, recurrent cells analytically (once per valid residue, layer and direction)."""
    total = [0.0]

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv1d):
            total[0] += 2.0 * output.numel() * module.in_channels // module.groups * module.kernel_size[0]
        else:
            total[0] += 2.0 * output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv1d | nn.Linear)]
    with torch.no_grad():
        model.eval()(x, lengths)
    for h in handles:
        h.remove()
    for rnn in (m for m in model.modules() if type(m) in GATES):
        directions = 2 if rnn.bidirectional else 1
        for layer in range(rnn.num_layers):
            size = rnn.input_size if layer == 0 else directions * rnn.hidden_size
            cell = GATES[type(rnn)] * rnn.hidden_size * (size + rnn.hidden_size)
            total[0] += 2.0 * float(lengths.sum()) * directions * cell
    return total[0]


def train_rate(model: nn.Module, batch: tuple, steps: int, warmup: int, autocast: bool = False) -> tuple[float, float]:
    """(residues per wall second, CPU seconds per step) of training steps."""
    x, lengths, y = batch
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            out = model(x, lengths)
        loss = nn.functional.cross_entropy(out.float().reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return float(lengths.sum()) * steps / wall, cpu / steps


def bounds(steps: int = 5) -> dict[str, float]:
    """GFLOP/s of a 512^3 float32 matmul and of a conv1d training step (forward + backward)."""
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    torch.mm(a, b)
    t = time.perf_counter()
    for _ in range(steps * 4):
        torch.mm(a, b)
    matmul = 2 * 512**3 * steps * 4 / (time.perf_counter() - t)
    conv = nn.Conv1d(64, 64, 9, padding=4)
    x = torch.randn(32, 64, 400, requires_grad=True)
    conv(x).sum().backward()
    t = time.perf_counter()
    for _ in range(steps):
        conv(x).sum().backward()
    conv_rate = 3 * 2 * 32 * 400 * 64 * 64 * 9 * steps / (time.perf_counter() - t)
    return {"matmul": matmul / 1e9, "conv1d": conv_rate / 1e9}


def network_rows(args: argparse.Namespace, bound: float) -> None:
    print("| network | length | batch | train MFLOP/residue | residues/s | CPU s/step | GFLOP/s | of bound |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.networks:
        for length in args.lengths:
            torch.manual_seed(0)
            model = make_model(name, length)
            batch = make_batch(args.batch, length, NETWORKS[name][1], NETWORKS[name][0] == "per_position")
            flops = 3 * count_flops(model, batch[0], batch[1]) / float(batch[1].sum())
            rate, cpu = train_rate(model, batch, args.steps, args.warmup)
            print(f"| {name} | {length} | {args.batch} | {flops / 1e6:.2f} | {rate:,.0f} | {cpu:.2f} | "
                  f"{flops * rate / 1e9:.2f} | {flops * rate / 1e9 / bound:.0%} |", flush=True)  # fmt: skip


def rnn_rows(args: argparse.Namespace) -> None:
    """The recurrent layers alone (bidirectional, 96 -> 64 units, as in cnn_birnn):
    forward + backward of one batch, packed, padded (padding would enter the backward
    state), and through ``run_rnn`` (as the networks run them: exact, GRUs unpacked)."""
    length = max(args.lengths)
    x = torch.randn(args.batch, length, 96)
    lengths = torch.full((args.batch,), length)
    print(f"\n| recurrent layer, length {length} | CPU s/step packed | padded | run_rnn |\n|---|---|---|---|")
    for cls in (nn.GRU, nn.LSTM):
        rnn = cls(96, 64, batch_first=True, bidirectional=True)
        cpu = []
        for how in ("packed", "padded", "run_rnn"):

            def step(rnn: nn.Module = rnn, how: str = how) -> None:
                if how == "run_rnn":
                    out = run_rnn(rnn, x.transpose(1, 2), lengths)
                elif how == "packed":
                    out = rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))[0].data
                else:
                    out = rnn(x)[0]
                out.sum().backward()

            step()
            start = time.process_time()
            for _ in range(args.steps):
                step()
            cpu.append((time.process_time() - start) / args.steps)
        print(f"| {cls.__name__} | {cpu[0]:.2f} | {cpu[1]:.2f} | {cpu[2]:.2f} |", flush=True)


def option_rows(args: argparse.Namespace) -> None:
    """One network, one length: threads, torch.compile, bf16 autocast."""
    name, length = args.options, max(args.lengths)
    batch = make_batch(args.batch, length, NETWORKS[name][1], NETWORKS[name][0] == "per_position")
    print(f"\n| {name}, length {length} | residues/s | CPU s/step |\n|---|---|---|")
    for label, threads, compiled, bf16 in (("eager, 1 thread", 1, False, False), ("eager, 2 threads", 2, False, False),
                                           ("torch.compile, 1 thread", 1, True, False),
                                           ("bf16 autocast, 1 thread", 1, False, True)):  # fmt: skip
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model = make_model(name, length)
        try:
            if compiled:
                model = torch.compile(model)
            rate, cpu = train_rate(model, batch, args.steps, args.warmup + compiled, bf16)
            print(f"| {label} | {rate:,.0f} | {cpu:.2f} |", flush=True)
        except Exception as err:  # report what this build cannot do
            print(f"| {label} | failed: {type(err).__name__}: {str(err).splitlines()[0][:80]} | |", flush=True)
    torch.set_num_threads(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--lengths", nargs="+", type=int, default=[400, 1000])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--options", choices=list(NETWORKS), help="time threads/compile/bf16 on one network")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rates = bounds()
    print(f"bound (1 thread): matmul 512^3 {rates['matmul']:.1f} GFLOP/s, "
          f"conv1d 64->64 w9 training {rates['conv1d']:.1f} GFLOP/s\n")  # fmt: skip
    network_rows(args, max(rates.values()))
    rnn_rows(args)
    if args.options:
        option_rows(args)


if __name__ == "__main__":
    main()
