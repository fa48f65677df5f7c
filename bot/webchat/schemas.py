"""The web chat API's bodies: what a client sends and what it gets back."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

USER_PATTERN = r"^[A-Za-z0-9:_.@-]{1,64}$"
MAX_PAYLOAD_CHARS = 256
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # real payloads are ≤ 64 bytes; anything longer is not one of ours

UserId = Annotated[str, StringConstraints(pattern=USER_PATTERN)]


class WebMessageIn(BaseModel):
    """A line typed ("text") or a button pressed ("payload"): exactly one of them."""

    user: UserId
    text: str | None = None
    payload: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PAYLOAD_CHARS)] | None = None
    # The client's id for this message: a resend with the same id (after a lost answer) is handled once.
    message_id: Annotated[str, StringConstraints(pattern=MESSAGE_ID_PATTERN)] | None = None

    @model_validator(mode="after")
    def _one_of_text_or_payload(self) -> WebMessageIn:
        if (self.text is None or self.text == "") == (self.payload is None):
            raise ValueError("send exactly one of text (non-empty) or payload")
        return self


class ButtonOut(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    text: str
    buttons: list[ButtonOut] = Field(default_factory=list)
    image_url: str | None = None


class RepliesOut(BaseModel):
    replies: list[MessageOut]


class PushedOut(BaseModel):
    messages: list[MessageOut]
    cursor: str = Field(description="Opaque; pass it back as ?after= to get only newer messages.")


class DemoPersonOut(BaseModel):
    user: str | None = Field(description="The web chat id to use; null: a new visitor, the page makes a fresh id.")
    kind: str = Field(description="resident, visitor or staff")
    label: str
    label_en: str


class SessionOut(BaseModel):
    user: str
    token: str = Field(description="Send as `Authorization: Bearer <token>` (the page uses the cookie instead).")
    demo: bool = Field(description="Demo mode: any user id may be used, staff:<login> is that staff member.")
    poll_seconds: float
    people: list[DemoPersonOut] = Field(default_factory=list,
                                        description="Demo mode: the people the page lets a visitor be.")
