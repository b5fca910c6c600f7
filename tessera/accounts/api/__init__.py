"""/api/auth/: phone codes, email and password, GitHub and Google, tokens, sessions, profile.

Thin: parse, authorise, call one service or selector, shape the reply. One module per
flow; their routers join here in the order of the OpenAPI document.
"""

from tessera.accounts.api import contact, password, profile, sessions, signin, social
from tessera.accounts.api.routing import AuthRouter

router = AuthRouter()
for part in (signin, password, social, sessions, profile, contact):
    router.add_router("", part.router)

__all__ = ["router"]
