"""Rank 1 crashes right away; rank 0 would hang forever in a collective (the launcher must kill it)."""
import os
import sys
import time

if os.environ["RANK"] == "1":
    time.sleep(0.5)
    print("rank 1 is crashing on purpose", file=sys.stderr)
    sys.exit(7)
time.sleep(120)
