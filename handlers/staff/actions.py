"""Staff ticket actions, shared by the task-card buttons (scope "t") and their text-command fallbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import select

from backend.catalogue import name
from backend.catalogue import register as register_texts
from backend.domain import Action, Department
from backend.errors import AlreadyTaken, DomainError, IllegalMove, NotFound
from backend.models import Resident, Staff, Ticket, TicketEvent
from handlers import payloads
from handlers.context import Context
from handlers.messages import Button, Outbound
from handlers.registry import payload_scope
from handlers.staff.access import can_handle, can_see_phone, may
from handlers.staff.cards import task_card

register_texts({
    "task.not_found": ("找不到这张工单，它可能不属于本小区或已被删除。", "That ticket does not exist in this community."),
    "task.no_number": ("本小区没有工单 #{number}。", "There is no ticket #{number} in this community."),
    "task.accepted": ("✅ 已接单：工单 #{number}。", "✅ You accepted ticket #{number}."),
    "task.already_yours": ("工单 #{number} 已经是您在处理。", "You are already handling ticket #{number}."),
    "task.started": ("▶️ 工单 #{number} 已开始处理，已通知住户。", "▶️ Work on ticket #{number} started; the resident is told."),
    "task.resolved": ("✅ 工单 #{number} 已办结，已请住户确认并评价。",
                      "✅ Ticket #{number} is resolved; the resident is asked to confirm and rate."),
    "task.closed": ("🔒 工单 #{number} 已关闭。", "🔒 Ticket #{number} is closed."),
    "task.transferred": ("↪️ 工单 #{number} 已转派给 {target}。", "↪️ Ticket #{number} was transferred to {target}."),
    "task.not_yours": (
        "工单 #{number} 由 {holder} 负责处理，您不能{action}。如需协助请联系 {holder} 或部门主管。",
        "Ticket #{number} is handled by {holder}; you cannot do that. Ask {holder} or the supervisor.",
    ),
    "task.ask_note": ("请用一句话写下工单 #{number} 的处理结果，例如「已更换阀门，试水正常」。",
                      "In one sentence, what was done for ticket #{number}? e.g. \"replaced the valve\"."),
    "task.ask_photo": ("如有完工照片请发送一张，没有请点「跳过」。", "Send a photo of the finished work, or press Skip."),
    "task.pick_target": ("工单 #{number} 转派给谁？请选择同事或部门（也可回复「转派 {number} 工号或部门」）。",
                         "Transfer ticket #{number} to whom? Choose a colleague or a department "
                         "(or reply \"transfer {number} LOGIN-or-department\")."),
    "task.ask_transfer_note": ("转派给 {target}。需要附言请直接输入，没有请点「跳过」。",
                               "Transferring to {target}. Type a note for them, or press Skip."),
    "task.unknown_target": ("没有找到同事或部门「{target}」。可用工号（如 tech2）、姓名或部门名（如 工程部）。",
                            "No colleague or department \"{target}\". Use a login (tech2), a name or a department."),
    "task.phone": ("工单 #{number} 住户{name}的电话：{phone}\n仅用于本工单联系，请保护住户隐私。",
                   "Ticket #{number}: the resident{name}'s phone is {phone}\nUse it for this ticket only."),
    "task.phone_refused": ("只有工单的负责人、处理人和主管可以查看住户完整电话。",
                           "Only the ticket's owner, handler and supervisors may see the resident's full phone."),
    "task.phone_none": ("工单 #{number} 没有住户电话（匿名或未登记）。", "Ticket #{number} has no resident phone."),
    "task.phone_viewed": ("查看住户电话", "viewed the resident's phone"),
    "flow.task_resolve": ("工单办结", "resolving a ticket"),
    "flow.task_transfer": ("工单转派", "transferring a ticket"),
})

MAX_PEOPLE_BUTTONS = 10
DEPARTMENTS = tuple(d.value for d in Department)


# ---- looking up --------------------------------------------------------------------------

def load(ctx: Context, ticket_id: int) -> Ticket | None:
    """A ticket of the staff member's community, or None after saying it does not exist."""
    try:
        return ctx.tickets().get(ctx.staff_actor(), ticket_id)
    except NotFound:
        ctx.say("task.not_found")
        return None


def by_number(ctx: Context, number: int) -> Ticket | None:
    try:
        return ctx.tickets().by_number(ctx.staff_actor(), number)
    except NotFound:
        ctx.say("task.no_number", number=number)
        return None


def reply_card(ctx: Context, ticket: Ticket, *, details: bool = False) -> Outbound:
    """The updated card; channels that can edit a card in place (Telegram) replace the old one."""
    ctx.session.flush()
    card = task_card(ticket, ctx.staff, ctx.lang, group=ctx.inbound.is_group, tz=ctx.settings.timezone,
                     now=ctx.now(), details=details)
    card.meta["edit_of"] = ticket.id
    ctx.replies.append(card)
    return card


@contextmanager
def guarded(ctx: Context, ticket_id: int) -> Iterator[None]:
    """Run a move in a savepoint; a refused move is rolled back, explained, and the card shown as it is."""
    savepoint = ctx.session.begin_nested()
    try:
        yield
        savepoint.commit()
    except DomainError as err:
        savepoint.rollback()
        ctx.say_text(err.text(ctx.lang))
        ticket = ctx.session.get(Ticket, ticket_id)
        if ticket is not None and ctx.staff is not None and ticket.community_id == ctx.staff.community_id:
            reply_card(ctx, ticket)


def require(ctx: Context, ticket: Ticket, action: Action) -> None:
    """Refuse early, with a clear reason, what the service would refuse at the end of a dialogue."""
    if not may(action, ticket):
        raise IllegalMove("error.illegal_move", number=ticket.number, status=name(f"status.{ticket.status}"),
                          status_en=name(f"status.{ticket.status}", "en"), action=name(f"action.{action}"),
                          action_en=name(f"action.{action}", "en"))
    if action in (Action.RESOLVE, Action.TRANSFER, Action.CLOSE) and not can_handle(ctx.staff, ticket):
        raise NotYours(ctx, ticket, action)


class NotYours(DomainError):
    http_status = 403

    def __init__(self, ctx: Context, ticket: Ticket, action: Action) -> None:
        holder_id = ticket.assignee_id or ticket.owner_id
        holder = ctx.session.get(Staff, holder_id) if holder_id else None
        super().__init__("task.not_yours", number=ticket.number, action=name(f"action.{action}"),
                         holder=holder.name if holder else name(f"dept.{ticket.department}"))


# ---- the moves ---------------------------------------------------------------------------

def accept(ctx: Context, ticket_id: int) -> None:
    """Atomic: the winner gets the updated card, everyone else learns who has it."""
    if (ticket := load(ctx, ticket_id)) is None:
        return
    with guarded(ctx, ticket_id):
        try:
            ticket = ctx.tickets().accept(ctx.staff_actor(), ticket_id)
        except AlreadyTaken as err:
            if err.staff_id == ctx.staff_actor().staff_id:
                ctx.say("task.already_yours", number=ticket.number)
            else:
                ctx.say_text(err.text(ctx.lang))
            reply_card(ctx, ticket)
            return
        ctx.say("task.accepted", number=ticket.number)
        reply_card(ctx, ticket)


def start(ctx: Context, ticket_id: int) -> None:
    if (ticket := load(ctx, ticket_id)) is None:
        return
    with guarded(ctx, ticket_id):
        require(ctx, ticket, Action.START)
        if ticket.assignee_id != ctx.staff_actor().staff_id:
            raise NotYours(ctx, ticket, Action.START)
        ticket = ctx.tickets().start(ctx.staff_actor(), ticket_id)
        ctx.say("task.started", number=ticket.number)
        reply_card(ctx, ticket)


def ask_resolution(ctx: Context, ticket_id: int) -> None:
    """办结: a note first (a flow step), then an optional photo."""
    from handlers.flows.base import begin

    if (ticket := load(ctx, ticket_id)) is None:
        return
    with guarded(ctx, ticket_id):
        require(ctx, ticket, Action.RESOLVE)
        begin(ctx, "task_resolve", "note", ticket_id=ticket.id, number=ticket.number)
        ctx.say("task.ask_note", number=ticket.number)


def resolve(ctx: Context, ticket_id: int, note: str, photo_url: str | None = None) -> bool:
    if (ticket := load(ctx, ticket_id)) is None:
        return False
    done = False
    with guarded(ctx, ticket_id):
        require(ctx, ticket, Action.RESOLVE)
        ticket = ctx.tickets().resolve(ctx.staff_actor(), ticket_id, note, photo_url)
        ctx.say("task.resolved", number=ticket.number)
        reply_card(ctx, ticket)
        done = True
    return done


def close(ctx: Context, ticket_id: int) -> None:
    if (ticket := load(ctx, ticket_id)) is None:
        return
    with guarded(ctx, ticket_id):
        require(ctx, ticket, Action.CLOSE)
        ticket = ctx.tickets().close(ctx.staff_actor(), ticket_id)
        ctx.say("task.closed", number=ticket.number)
        reply_card(ctx, ticket)


def view(ctx: Context, ticket_id: int) -> None:
    if (ticket := load(ctx, ticket_id)) is not None:
        reply_card(ctx, ticket, details=True)


def pick_transfer_target(ctx: Context, ticket_id: int) -> None:
    if (ticket := load(ctx, ticket_id)) is None:
        return
    with guarded(ctx, ticket_id):
        require(ctx, ticket, Action.TRANSFER)
        people = ctx.session.scalars(
            select(Staff).where(Staff.community_id == ticket.community_id, Staff.department == ticket.department,
                                Staff.active.is_(True), Staff.id != ctx.staff_actor().staff_id)
            .order_by(Staff.role.desc(), Staff.id).limit(MAX_PEOPLE_BUTTONS))
        buttons = [Button(f"👤 {p.name}", payloads.make("t", "xp", ticket.id, p.id)) for p in people
                   if p.id != ticket.assignee_id]
        buttons += [Button(f"🏢 {name(f'dept.{d}', _lang(ctx))}", payloads.make("t", "xd", ticket.id, d))
                    for d in DEPARTMENTS]
        ctx.say("task.pick_target", *buttons, number=ticket.number)


def ask_transfer_note(ctx: Context, ticket_id: int, *, to_staff_id: int | None = None,
                      to_department: str | None = None) -> None:
    from handlers.flows.base import begin

    if (ticket := load(ctx, ticket_id)) is None:
        return
    with guarded(ctx, ticket_id):
        require(ctx, ticket, Action.TRANSFER)
        label = target_label(ctx, ticket, to_staff_id, to_department)
        begin(ctx, "task_transfer", "note", ticket_id=ticket.id, number=ticket.number, to_staff_id=to_staff_id,
              to_department=to_department, target=label)
        ctx.say("task.ask_transfer_note", skip_button(ctx), target=label)


def transfer(ctx: Context, ticket_id: int, *, to_staff_id: int | None = None, to_department: str | None = None,
             note: str = "") -> bool:
    if (ticket := load(ctx, ticket_id)) is None:
        return False
    done = False
    with guarded(ctx, ticket_id):
        require(ctx, ticket, Action.TRANSFER)
        label = target_label(ctx, ticket, to_staff_id, to_department)
        ticket = ctx.tickets().transfer(ctx.staff_actor(), ticket_id, to_staff_id=to_staff_id,
                                        to_department=to_department, note=note)
        ctx.say("task.transferred", number=ticket.number, target=label)
        reply_card(ctx, ticket)
        done = True
    return done


def target_label(ctx: Context, ticket: Ticket, to_staff_id: int | None, to_department: str | None) -> str:
    if to_staff_id is not None:
        target = ctx.session.get(Staff, to_staff_id)
        if target is None or target.community_id != ticket.community_id or not target.active:
            raise NotFound("员工")
        return target.name
    if to_department not in DEPARTMENTS:
        raise NotFound("部门")
    return name(f"dept.{to_department}", _lang(ctx))


def find_target(ctx: Context, text: str) -> tuple[int | None, str | None]:
    """A colleague (login or name) or a department (code, Chinese or English name) named in a command."""
    wanted = text.strip().lower()
    for dept in DEPARTMENTS:
        if wanted in (dept, name(f"dept.{dept}").lower(), name(f"dept.{dept}", "en").lower()):
            return None, dept
    community_id = ctx.staff_actor().community_id
    staff = ctx.session.scalar(select(Staff).where(
        Staff.community_id == community_id, Staff.active.is_(True),
        (Staff.login == wanted) | (Staff.name == text.strip())).limit(1))
    return (staff.id, None) if staff is not None else (None, None)


def reveal_phone(ctx: Context, ticket_id: int) -> None:
    """The full phone, only to the people answering for the ticket; every look is in its history."""
    if (ticket := load(ctx, ticket_id)) is None:
        return
    if not can_see_phone(ctx.staff, ticket):
        ctx.say("task.phone_refused")
        return
    reporter = ctx.session.get(Resident, ticket.reporter_id) if ticket.reporter_id else None
    if ticket.anonymous or reporter is None or not reporter.phone:
        ctx.say("task.phone_none", number=ticket.number)
        return
    ctx.session.add(TicketEvent(
        community_id=ticket.community_id, ticket_id=ticket.id, at=ctx.now(), action=Action.NOTE,
        actor_type="staff", actor_staff_id=ctx.staff_actor().staff_id, from_status=ticket.status,
        to_status=ticket.status, note=ctx.t("task.phone_viewed"), data={"phone_viewed": True},
    ))
    ctx.session.flush()
    shown_name = f"（{reporter.name}）" if reporter.name and _lang(ctx) != "en" else ""
    out = ctx.say("task.phone", number=ticket.number, phone=reporter.phone, name=shown_name)
    out.private = ctx.inbound.is_group  # never a phone number in a group


def skip_button(ctx: Context) -> Button:
    return ctx.button("button.skip", payloads.make("f", "skip"))


def _lang(ctx: Context) -> str:
    return "en" if ctx.lang == "en" else "zh"


# ---- button scope "t" ----------------------------------------------------------------------

def _xp(ctx: Context, ticket_id: int, payload: payloads.Payload) -> bool:
    staff_id = payload.int_arg(1)
    if staff_id is None:
        return False
    ask_transfer_note(ctx, ticket_id, to_staff_id=staff_id)
    return True


def _xd(ctx: Context, ticket_id: int, payload: payloads.Payload) -> bool:
    dept = payload.arg(1)
    if dept not in DEPARTMENTS:
        return False
    ask_transfer_note(ctx, ticket_id, to_department=dept)
    return True


def _simple(fn: Callable[[Context, int], None]) -> Callable[[Context, int, payloads.Payload], bool]:
    def run(ctx: Context, ticket_id: int, _payload: payloads.Payload) -> bool:
        fn(ctx, ticket_id)
        return True

    return run


BUTTONS: dict[str, Callable[[Context, int, payloads.Payload], bool]] = {
    "a": _simple(accept), "s": _simple(start), "d": _simple(ask_resolution), "x": _simple(pick_transfer_target),
    "xp": _xp, "xd": _xd, "v": _simple(view), "p": _simple(reveal_phone), "c": _simple(close),
}


@payload_scope("t")
def on_button(ctx: Context, payload: payloads.Payload) -> bool:
    """t:<verb>:<ticket_id>[:<arg>]; False (the caller says "stale button") for anything unknown."""
    run = BUTTONS.get(payload.verb)
    ticket_id = payload.int_arg(0)
    if run is None or ticket_id is None:
        return False
    if ctx.staff is None:
        ctx.say("chat.staff_only")
        return True
    return run(ctx, ticket_id, payload)
