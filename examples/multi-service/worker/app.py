"""The shop worker: processes orders from a queue (here: a loop)."""

import time

if __name__ == "__main__":
    while True:
        print("worker: waiting for orders", flush=True)
        time.sleep(5)
