"""Errors on web pages answer as pages: the API's status codes, with an HTML body instead of JSON.

The API's handlers stay in charge of every other path; a request is a page request when its route belongs to
the web UI (`mark_page`, a dependency of every web router, sets the flag before anything can fail).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from assay.errors import AuthError, ConflictError, DomainError, ResourceNotFound, ValidationFailed
from assay.web.auth import SignInRequired, sign_in_url
from assay.web.templating import render

Handler = Callable[[Request, Exception], Awaitable[Response]]


def mark_page(request: Request) -> None:
    """Dependency of every web router: errors of this request render as pages."""
    request.state.web_page = True


def is_page(request: Request) -> bool:
    return bool(getattr(request.state, "web_page", False))


def error_page(request: Request, status_code: int, title: str, detail: str) -> Response:
    return render(request, "error.html", {"title": title, "detail": detail}, status_code=status_code)


def _page_error(exc: Exception) -> tuple[int, str, str]:
    if isinstance(exc, ResourceNotFound):
        return 404, "Not found", str(exc)
    if isinstance(exc, AuthError):
        return exc.status_code, "Not allowed", str(exc)
    if isinstance(exc, ValidationFailed):
        return 422, "Invalid input", str(exc)
    if isinstance(exc, ConflictError):
        return 409, "Conflict", str(exc)
    if isinstance(exc, DomainError):
        return 400, "Cannot do that", str(exc)
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, "Not found" if exc.status_code == 404 else "Error", str(exc.detail)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        return 422, "Invalid input", f"{where}: {first.get('msg', 'invalid value')}" if where else "Invalid input"
    return 500, "Error", "Something went wrong."


def install_page_errors(app: FastAPI) -> None:
    """Wrap the API's exception handlers so page requests get pages (and sign-in redirects)."""

    def wrap(exc_type: type[Exception]) -> None:
        api_handler: Handler | None = app.exception_handlers.get(exc_type)  # type: ignore[assignment]

        async def handler(request: Request, exc: Exception) -> Response:
            if is_page(request) or api_handler is None:
                status, title, detail = _page_error(exc)
                return error_page(request, status, title, detail)
            return await api_handler(request, exc)

        app.add_exception_handler(exc_type, handler)

    for exc_type in (DomainError, StarletteHTTPException, RequestValidationError):
        wrap(exc_type)

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        if request.method in ("GET", "HEAD") and request.headers.get("accept", "") != "text/event-stream":
            return RedirectResponse(sign_in_url(request), status_code=303)
        return error_page(request, 401, "Signed out", "Your session has ended. Sign in again.")

    app.add_exception_handler(SignInRequired, sign_in_required)
