"""The one place settings read the environment from (django-environ)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("TESSERA_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
