#!/usr/bin/env python3
"""ec2-runner demo: prints a few lines over ~2 seconds, one line on stderr, and writes a
structured result to the file named by $EC2_RUNNER_RESULT (shipped back out of band)."""
import json
import os
import platform
import socket
import sys
import time

print(f"Hello from {socket.gethostname()} (Python {platform.python_version()})", flush=True)
squares = []
for step in range(1, 5):
    time.sleep(0.5)
    squares.append(step * step)
    print(f"step {step}/4: {step}^2 = {step * step}", flush=True)
print("a warning on stderr, streamed live too", file=sys.stderr, flush=True)

result = {"squares": squares, "total": sum(squares), "python": platform.python_version(), "args": sys.argv[1:]}
result_file = os.environ.get("EC2_RUNNER_RESULT")
if result_file:
    with open(result_file, "w") as f:
        json.dump(result, f)
print("done", flush=True)
