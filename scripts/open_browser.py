"""Open the dashboard in the user's browser once the server answers (used by make run)."""

import os
import sys
import time
import urllib.request
import webbrowser

url = sys.argv[1]
for _ in range(120):
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
            if answer.read().strip() == b"ok":
                break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit(0)
if sys.platform == "darwin" or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
    webbrowser.open(url)
