"""Registries other modules add to: slash commands, button scopes, staff text commands."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from handlers.context import Context
from handlers.payloads import Payload

CommandFn = Callable[[Context, str], None]
PayloadFn = Callable[[Context, Payload], bool]


@dataclass(frozen=True)
class TextCommand:
    pattern: re.Pattern[str]
    run: Callable[[Context, re.Match[str]], None]
    staff_only: bool = True


COMMANDS: dict[str, CommandFn] = {}  # "/bind" -> fn(ctx, rest of the line)
PAYLOADS: dict[str, PayloadFn] = {}  # payload scope -> fn(ctx, payload)
TEXT_COMMANDS: list[TextCommand] = []  # plain-text fallbacks for buttons ("接单 1024")


def command(*names: str) -> Callable[[CommandFn], CommandFn]:
    def deco(fn: CommandFn) -> CommandFn:
        for name in names:
            if name in COMMANDS:
                raise KeyError(f"command {name} registered twice")
            COMMANDS[name] = fn
        return fn

    return deco


def payload_scope(scope: str) -> Callable[[PayloadFn], PayloadFn]:
    def deco(fn: PayloadFn) -> PayloadFn:
        if scope in PAYLOADS:
            raise KeyError(f"payload scope {scope} registered twice")
        PAYLOADS[scope] = fn
        return fn

    return deco


def text_command(pattern: str, *, staff_only: bool = True) -> Callable[
        [Callable[[Context, re.Match[str]], None]], Callable[[Context, re.Match[str]], None]]:
    compiled = re.compile(pattern, re.IGNORECASE)

    def deco(fn: Callable[[Context, re.Match[str]], None]) -> Callable[[Context, re.Match[str]], None]:
        TEXT_COMMANDS.append(TextCommand(compiled, fn, staff_only))
        return fn

    return deco
