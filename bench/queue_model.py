#!/usr/bin/python3
"""What an ideal single-core FIFO forwarder's p50/p99 time in the server would be.

Frames arrive at random (Poisson: many independent publishers), each bringing
`copies` copies to make at `cost` µs apiece, one after the other, on one core
that does nothing else: no wakeup latency, no timers, no other load, no
variation in the cost of a copy. A copy counts as sent when the `sendmmsg`
carrying it returns, every `chunk` copies of a frame (as Switchboard's worker
stamps its `forward_delay_us`). The gap between this and a measured p99 is what
the machine and the server add beyond pure queueing.

    bench/queue_model.py --copies 40 --cost 3.4 --load 0.2,0.43,0.5,0.57
"""
import argparse
import random


def simulate(load, copies, cost, chunk, frames, seed):
    rng = random.Random(seed)
    service = copies * cost
    rate = load / service  # frames per µs
    t = free = 0.0
    delays = []
    for _ in range(frames):
        t += rng.expovariate(rate)
        start = max(t, free)
        for k in range(copies):
            sent = min(copies, (k // chunk + 1) * chunk)  # copies done when its sendmmsg returns
            delays.append(start + sent * cost - t)
        free = start + service
    delays.sort()
    return delays[len(delays) // 2], delays[int(0.99 * len(delays))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=40, help="copies per frame (subscribers × packets per frame)")
    ap.add_argument("--cost", type=float, default=3.4, help="µs of the core per copy")
    ap.add_argument("--chunk", type=int, default=64, help="copies per sendmmsg")
    ap.add_argument("--load", default="0.2,0.33,0.43,0.5,0.57", help="comma-separated shares of the core")
    ap.add_argument("--frames", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(f"{args.copies} copies per frame at {args.cost} µs, sent every {args.chunk}")
    for load in (float(x) for x in args.load.split(",")):
        p50, p99 = simulate(load, args.copies, args.cost, args.chunk, args.frames, args.seed)
        print(f"load {load:.2f}: p50 {p50 / 1000:.2f} ms, p99 {p99 / 1000:.2f} ms")


if __name__ == "__main__":
    main()
