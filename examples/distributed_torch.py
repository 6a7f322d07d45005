"""Train a numrnn model with PyTorch's DistributedDataParallel, then bring it back into numrnn.

Two processes on this machine (gloo, CPU, over the loopback interface) each take half of every batch of the mod3
task (predict (x_t + 1) % 3 at every step); DDP averages their gradients, so both hold the same weights after every
step. The model is designed in numrnn, converted with numrnn.torch.to_torch, trained with torch's Adam and
cross-entropy on the logits, and converted back with numrnn.torch.from_torch: numrnn's predictions then equal the
torch model's.

    PYTHONPATH=src python examples/distributed_torch.py [--processes 2] [--epochs 4] [--samples 512]

The last line printed is a JSON summary (the test reads it).
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

import numrnn
from numrnn import data


def build_model():
    numrnn.seed(0)
    return numrnn.Sequential([numrnn.GRU(3, 16), numrnn.Dense(16, 3)], loss="cross_entropy")


def worker(rank, world, config, initial, folder, args):
    """One process: the numrnn model as a torch module in DDP, trained on its shard of every batch."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from numrnn.torch import to_torch

    torch.set_num_threads(1)  # two processes on a small machine: one BLAS thread each
    torch.manual_seed(rank)
    dist.init_process_group("gloo", init_method=f"file://{os.path.join(folder, 'rendezvous')}", rank=rank,
                            world_size=world)
    model = numrnn.Sequential.from_config(config)
    model.load_state_dict(initial)
    module = DistributedDataParallel(to_torch(model))  # rank 0's weights are broadcast to every process here
    optimizer = torch.optim.Adam(module.parameters(), lr=args.lr)
    X, y = data.mod3(args.samples, steps=10, seed=0)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    shuffle = np.random.default_rng(0)  # the same seed in every process: one order, each its own part of a batch
    losses = []
    for _ in range(args.epochs):
        order, total = shuffle.permutation(args.samples), 0.0
        for start in range(0, args.samples, args.batch_size):
            index = order[start:start + args.batch_size][rank::world]
            logits = module(X[index])
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), y[index].reshape(-1))
            optimizer.zero_grad()
            loss.backward()  # DDP averages the gradients of all processes here
            optimizer.step()
            total += loss.item() * len(index)
        losses.append(total / len(range(rank, args.samples, world)))
    trained = module.module.state_dict()
    np.savez(os.path.join(folder, f"rank{rank}.npz"), **{name: value.numpy() for name, value in trained.items()})
    with open(os.path.join(folder, f"rank{rank}.json"), "w") as stream:
        json.dump(losses, stream)
    dist.destroy_process_group()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.02)
    args = parser.parse_args(argv)

    import torch
    import torch.multiprocessing

    from numrnn.torch import from_torch, to_torch

    if sys.platform.startswith("linux"):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # the processes talk over loopback only
    model = build_model()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        torch.multiprocessing.spawn(worker, args=(args.processes, model.config(), model.state_dict(), folder, args),
                                    nprocs=args.processes, join=True)
        states = [dict(np.load(os.path.join(folder, f"rank{r}.npz"))) for r in range(args.processes)]
        with open(os.path.join(folder, "rank0.json")) as stream:
            losses = json.load(stream)
    seconds = time.perf_counter() - started
    ranks_agree = all(np.array_equal(states[0][name], state[name]) for state in states[1:] for name in states[0])

    trained = from_torch(states[0], config=model.config())  # numrnn again, loss and all
    module = to_torch(build_model())                         # the torch model, with the trained weights
    module.load_state_dict({name: torch.from_numpy(value) for name, value in states[0].items()})
    X_test, y_test = data.mod3(200, steps=10, seed=1)
    with torch.no_grad():
        torch_probabilities = torch.softmax(module.eval()(torch.from_numpy(X_test)), dim=-1).numpy()
    numrnn_probabilities = trained.predict(X_test)
    difference = float(np.abs(numrnn_probabilities - torch_probabilities).max())
    accuracy = float((numrnn_probabilities.argmax(-1) == y_test).mean())
    print(f"{args.processes} processes, {args.epochs} epochs in {seconds:.1f} s; loss per epoch (rank 0) "
          f"{[round(v, 4) for v in losses]}; test accuracy {100 * accuracy:.1f}%; numrnn vs torch predictions "
          f"differ by at most {difference:.2e}; every process ended with the same weights: {ranks_agree}")
    summary = {"processes": args.processes, "epochs": args.epochs, "seconds": round(seconds, 2), "losses": losses,
               "accuracy": accuracy, "max_difference": difference, "ranks_agree": ranks_agree}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
