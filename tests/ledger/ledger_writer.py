"""A writer process for multi-process and crash tests (run as a script, not collected).

    python tests/ledger/ledger_writer.py URL TAG COUNT [THREADS]

Appends ``TAG:i`` for i in range(COUNT) from THREADS threads and prints ``index TAG:i`` on
stdout, flushed, only after ``append`` has returned, i.e. after the durable commit.
"""

from __future__ import annotations

import sys
import threading

from rsrp.ledger import Log


def main() -> None:
    url, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    out = threading.Lock()
    with Log.open(url) as log:

        def work(k: int) -> None:
            for i in range(k, count, threads):
                entry = f"{tag}:{i}"
                index = log.append(entry.encode())
                with out:
                    sys.stdout.write(f"{index} {entry}\n")
                    sys.stdout.flush()

        workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()


if __name__ == "__main__":
    main()
