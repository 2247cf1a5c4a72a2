"""Prints the launcher's variables as one line (one write, so concurrent ranks do not interleave)."""
import os

e = os.environ
os.write(1, (f"{e['RANK']} {e['LOCAL_RANK']} {e['WORLD_SIZE']} {e['LOCAL_WORLD_SIZE']} {e['MASTER_ADDR']} "
             f"{int(e['MASTER_PORT']) > 0}\n").encode())
