"""The DRF ping: an APIView returning the same JSON as Tessera's `/api/ping`."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.baselines.bare_wsgi import VERSION, timestamp


class PingView(APIView):
    def get(self, request: Request) -> Response:
        return Response(
            {
                "status": "success",
                "data": {"pong": True, "version": VERSION},
                "message": "OK",
                "timestamp": timestamp().decode(),
            }
        )
