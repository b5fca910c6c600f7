"""The plain-Django ping: a function view returning the same JSON as Tessera's `/api/ping`."""

from django.http import HttpRequest, JsonResponse

from bench.baselines.bare_wsgi import VERSION, timestamp


def ping(request: HttpRequest) -> JsonResponse:
    payload = {
        "status": "success",
        "data": {"pong": True, "version": VERSION},
        "message": "OK",
        "timestamp": timestamp().decode(),
    }
    # Compact separators: the same bytes as Tessera's orjson output.
    return JsonResponse(payload, json_dumps_params={"separators": (",", ":")})
