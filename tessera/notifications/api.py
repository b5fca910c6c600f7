from tessera.core.api import ApiRouter

router = ApiRouter()
