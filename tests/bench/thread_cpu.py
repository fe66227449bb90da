"""Where a process's CPU goes, by thread group, over a window of load:
`python3 tests/bench/thread_cpu.py <pid> <seconds>` reads
/proc/<pid>/task/*/{comm,stat} and /proc/<pid>/io at the start and the end
of the window and prints one JSON object: CPU seconds per group and the
bytes the process wrote in between (`wchar`: passed to write calls;
`disk`: sent to the block layer). A group is a thread name without its
file or number ("store shard-03" and "store shard-07" are "store"; the
node names its threads, support/thread_name.hpp). CAF's workers are not
named by CAF 0.17 and show under their creator's name, "caf.multiplexer"."""
import json
import os
import re
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def group(name):
    # "store shard-03", "ckpt emporium", "http io 1" -> "store", "ckpt", "http io"
    name = re.sub(r" (shard-\d+\S*|emporium)$", "", name)  # a relocated file: shard-03.r5
    return re.sub(r" \d+$", "", name)


def sample(pid):
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                # utime and stime are fields 14 and 15; the name (field 2)
                # may hold spaces, so count from its closing parenthesis.
                fields = f.read().rsplit(")", 1)[1].split()
            threads[tid] = (name, int(fields[11]) + int(fields[12]))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # the thread ended meanwhile
    io = {}
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            key, value = line.split(":")
            io[key] = int(value)
    return threads, io


def main():
    pid, seconds = int(sys.argv[1]), float(sys.argv[2])
    t0, io0 = sample(pid)
    time.sleep(seconds)
    t1, io1 = sample(pid)
    cpu = {}
    for tid, (name, ticks) in t1.items():
        before = t0.get(tid, (name, 0))[1]
        g = group(name)
        cpu[g] = cpu.get(g, 0.0) + (ticks - before) / TICK
    print(json.dumps({"seconds": seconds, "cpu": cpu,
                      "wchar": io1["wchar"] - io0["wchar"],
                      "disk": io1["write_bytes"] - io0["write_bytes"]}))


if __name__ == "__main__":
    main()
