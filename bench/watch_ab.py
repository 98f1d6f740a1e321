"""Two gob binaries' `gob check --watch` latency side by side, on the same wide-preset tree
(scale 50, 260 packages) in interleaved rounds (the order flips each round), so that a
change's effect is measured against the build before it on the same machine the same
minute: N saves of a leaf library and N of a test file per binary and round.

usage: python3 bench/watch_ab.py OLD_GOB NEW_GOB [ROUNDS=3] [SAVES=5]
"""

import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402
import watch as wb  # noqa: E402

old, new = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
saves = int(sys.argv[4]) if len(sys.argv) > 4 else 5
ws = os.path.join(tempfile.mkdtemp(prefix="gob-ab-"), "ws")
gen.generate("wide", 50, ws)
subprocess.run([new, "check"], cwd=ws, env=wb.env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
lib = lambda layer, i: os.path.join(ws, "internal", gen.lib_name(layer, i))
test_file = os.path.join(lib(1, 5), gen.lib_name(1, 5) + "_test.go")
leaf = os.path.join(lib(gen.LAYERS - 1, 7), gen.lib_name(gen.LAYERS - 1, 7) + "_0.go")
res = {b: {"leaf": [], "test": []} for b in (old, new)}
for r in range(rounds):
    for b in (old, new) if r % 2 == 0 else (new, old):
        w = wb.Watch(b, ws)
        w.wait(1)
        s, _ = wb.latencies(w, leaf, saves, wb.edit)
        res[b]["leaf"] += s
        s, _ = wb.latencies(w, test_file, saves, wb.edit_test)
        res[b]["test"] += s
        w.quit()
for b in (old, new):
    print(b, {k: (round(statistics.median(v), 3), round(min(v), 3), len(v)) for k, v in res[b].items()})
