"""Load the settings in a fresh interpreter with a clean environment, as a deploy would."""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def settings_in_subprocess(expression, **env):
    """Run ``django.setup()`` then print ``expression`` (``json`` and ``settings`` at hand).

    Only PATH and the given variables are set; ``ENV_FILE`` is empty unless given, so a
    developer's ``.env`` stays out of it.
    """
    code = "import json, django; django.setup(); from django.conf import settings; "
    code += f"print({expression})"
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ENV_FILE": "",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
