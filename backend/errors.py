"""Domain errors: each carries a catalogue key so every layer can tell the user why."""

from __future__ import annotations

from typing import Any

from backend.catalogue import render


class DomainError(Exception):
    """Base of all errors a user may cause; `http_status` is a hint for the API layer."""

    http_status = 400

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(render(key, "en", **params))

    def text(self, lang: str = "zh") -> str:
        return render(self.key, lang, **self.params)


class NotFound(DomainError):
    http_status = 404

    def __init__(self, what: str = "记录") -> None:
        super().__init__("error.not_found", what=what)


class Forbidden(DomainError):
    http_status = 403

    def __init__(self) -> None:
        super().__init__("error.forbidden")


class IllegalMove(DomainError):
    http_status = 409


class AlreadyTaken(DomainError):
    http_status = 409

    def __init__(self, number: int, name: str, staff_id: int | None) -> None:
        super().__init__("error.already_taken", number=number, name=name)
        self.staff_id = staff_id


class Invalid(DomainError):
    http_status = 422

    def __init__(self, detail: str, key: str = "error.invalid", **params: Any) -> None:
        super().__init__(key, detail=detail, **params)
