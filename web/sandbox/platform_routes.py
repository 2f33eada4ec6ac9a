"""The emulated platform APIs over HTTP: raw bytes in, raw bytes out.

``/line/...`` and ``/graph/...`` hand the request unchanged to the emulator, so the
SDKs meet the same paths, headers and bodies as on the real hosts. ``/media/<id>``
serves what customers "uploaded", the way Meta's CDN serves attachment URLs.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from bot.sandbox import ApiRequest, ApiResponse, PlatformEmulator

API_METHODS = ["GET", "POST", "PUT", "DELETE"]


def register_platform_routes(bp: Blueprint, emulator: PlatformEmulator) -> None:
    @bp.route("/line/<path:rest>", methods=API_METHODS)
    def line_api(rest: str) -> Response:
        return _respond(emulator.line.handle(_api_request(rest)))

    @bp.route("/graph/<path:rest>", methods=API_METHODS)
    def graph_api(rest: str) -> Response:
        return _respond(emulator.graph.handle(_api_request(rest)))

    @bp.route("/media/<media_id>")
    def media(media_id: str) -> Response:
        found = emulator.media(media_id)
        if found is None:
            return Response(b"not found", 404, content_type="text/plain")
        return Response(found.content, 200, content_type=found.content_type)


def _api_request(rest: str) -> ApiRequest:
    return ApiRequest(
        method=request.method,
        path="/" + rest,
        headers=dict(request.headers),
        query=request.args.to_dict(),
        body=request.get_data(),
    )


def _respond(api_response: ApiResponse) -> Response:
    content_type = api_response.content_type
    if api_response.content is None and content_type == "application/json":
        content_type = "application/json; charset=utf-8"
    return Response(
        api_response.body_bytes(),
        api_response.status,
        headers=api_response.headers,
        content_type=content_type,
    )
