"""Baseline: FastAPI on uvicorn serving the same cached bytes from the same Redis key that
Tessera stores (Django's cache key format, pickled `(etag, built_at, bytes)`)."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime

import redis.asyncio as redis
from fastapi import FastAPI, Request, Response

KEY = "tessera:1:content:doc:all"
app = FastAPI()
client = redis.Redis.from_url(os.environ["REDIS_URL"])


def _timestamp() -> bytes:
    now = datetime.now(tz=UTC)
    return (now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z").encode()


@app.get("/api/website-data/")
async def website_data(request: Request) -> Response:
    raw = await client.get(KEY)
    etag, _built_at, body = pickle.loads(raw)  # noqa: S301 - our own cache, loopback
    headers = {"ETag": f'W/"{etag}"'}
    if request.headers.get("if-none-match", "").removeprefix("W/").strip('"') == etag:
        return Response(status_code=304, headers=headers)
    return Response(
        b'{"status":"success","data":'
        + body
        + b',"message":"OK","timestamp":"'
        + _timestamp()
        + b'"}',
        media_type="application/json",
        headers=headers,
    )
