"""Floor-assistant command routes: one ``/commands`` endpoint taking every kind of command
(the console's outbox sends them all the same way), plus REST-style routes for 接龙."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Response
from pydantic import Field

from console.domain import draws, flash
from console.store import chains, commands
from console.store.auth import Caller, Permission
from console.store.commands import Command
from console.store.deps import Context, json_response, require
from console.store.models import LaxSegment, StrictBody

router = APIRouter(prefix="/api/v1")
Assistant = Annotated[Caller, Depends(require(Permission.COMMAND))]
CommandId = Annotated[
    str, Field(min_length=8, max_length=128, description="chosen by the console; a retry reuses it")
]
ProductId = Annotated[str, Field(min_length=1, max_length=64)]


class OpenChain(StrictBody):
    type: Literal["open_chain"] = "open_chain"
    command_id: CommandId
    product_id: ProductId
    threshold: int = Field(ge=1, le=100_000, description="成团: entries needed")
    cap: int = Field(ge=1, le=100_000, description="most entries taken")
    deadline_minutes: float = Field(gt=0, le=24 * 60)
    gift_first: int = Field(default=0, ge=0, le=100_000, description="the first N get the gift")
    gift: str = Field(default="", max_length=60)
    comment_pattern: str | None = Field(
        default=None,
        max_length=100,
        description='评论接龙的格式："|" 分隔，N 代表份数，如 "+N|要N份"；不填为 +N、接龙N、N份',
    )


class CloseChain(StrictBody):
    type: Literal["close_chain"] = "close_chain"
    command_id: CommandId
    chain_id: str = Field(min_length=1, max_length=64)


class PresentProduct(StrictBody):
    """讲解中: the product the host presents now; null when none."""

    type: Literal["present_product"]
    command_id: CommandId
    product_id: ProductId | None


class AdjustStock(StrictBody):
    type: Literal["adjust_stock"]
    command_id: CommandId
    product_id: ProductId
    delta: int = Field(ge=-100_000, le=100_000, description="units added (negative: taken)")
    reason: str = Field(default="", max_length=60)


class PostNotice(StrictBody):
    type: Literal["post_notice"]
    command_id: CommandId
    text: str = Field(min_length=1, max_length=120)


class AcknowledgeShoutout(StrictBody):
    type: Literal["acknowledge_shoutout"]
    command_id: CommandId
    shoutout_id: str = Field(min_length=1, max_length=64)


class PinShoutout(StrictBody):
    type: Literal["pin_shoutout"]
    command_id: CommandId
    shoutout_id: str = Field(min_length=1, max_length=64)
    pinned: bool = True


class CancelOrder(StrictBody):
    type: Literal["cancel_order"]
    command_id: CommandId
    order_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="assistant", max_length=60)


class StartDraw(StrictBody):
    """抽奖 among the members who qualify now; the store picks and logs the seed."""

    type: Literal["start_draw"]
    command_id: CommandId
    prize: str = Field(min_length=1, max_length=draws.PRIZE_LENGTH)
    count: int = Field(ge=1, le=1000, description="中奖人数")
    circles: list[LaxSegment] = Field(default_factory=list, max_length=6, description="空：全部")
    min_watch_minutes: float = Field(default=0, ge=0, le=24 * 60, description="至少观看分钟数")
    must_comment: bool = False
    in_room_now: bool = False


class StartFlashSale(StrictBody):
    """秒杀 by circle: the flash price for a while, within units of the shared stock."""

    type: Literal["start_flash_sale"]
    command_id: CommandId
    product_id: ProductId
    price: float = Field(gt=0, le=100_000, description="秒杀价（元）")
    units: int = Field(ge=1, le=100_000, description="秒杀件数（占用共享库存）")
    minutes: float = Field(ge=flash.MIN_MINUTES, le=flash.MAX_MINUTES)
    limit_per_member: int = Field(ge=1, le=1000, description="每人限购")
    circles: list[LaxSegment] = Field(default_factory=list, max_length=6, description="空：全部")


AnyCommand = Annotated[
    OpenChain
    | CloseChain
    | PresentProduct
    | AdjustStock
    | PostNotice
    | AcknowledgeShoutout
    | PinShoutout
    | CancelOrder
    | StartDraw
    | StartFlashSale,
    Field(discriminator="type"),
]


async def execute(ctx: Context, sid: str, actor: str, body: Any) -> tuple[dict[str, Any], bool]:
    """Run one command on the writer; tell the followers when it logged something."""
    command = Command(sid, body.command_id, actor, tuple(body.model_dump().values()))

    def waiting(conn: Any) -> set[str]:
        return ctx.waiting_shoutouts(conn, sid)

    match body:
        case OpenChain():
            apply = chains.open_chain(
                command,
                body.product_id,
                body.threshold,
                body.cap,
                body.deadline_minutes * 60,
                body.gift_first,
                body.gift,
                body.comment_pattern,
            )
        case CloseChain():
            apply = chains.close_chain(command, body.chain_id)
        case PresentProduct():
            apply = commands.present_product(command, body.product_id)
        case AdjustStock():
            apply = commands.adjust_stock(command, body.product_id, body.delta, body.reason)
        case PostNotice():
            apply = commands.post_notice(command, body.text)
        case AcknowledgeShoutout():
            apply = commands.mark_shoutout(command, body.shoutout_id, waiting)
        case PinShoutout():
            apply = commands.mark_shoutout(command, body.shoutout_id, waiting, body.pinned)
        case CancelOrder():
            apply = commands.cancel_order(command, body.order_id, body.reason)
        case StartDraw():
            criteria = draws.DrawCriteria(
                body.prize,
                body.count,
                frozenset(body.circles),
                body.min_watch_minutes,
                body.must_comment,
                body.in_room_now,
            )
            apply = commands.start_draw(command, criteria)
        case StartFlashSale():
            request = flash.FlashRequest(
                body.product_id,
                round(body.price * 100),
                body.units,
                body.minutes,
                body.limit_per_member,
                frozenset(body.circles),
            )
            apply = commands.start_flash_sale(command, request)
    answer, new = await ctx.write(commands.run, command, apply, ctx.clock)
    if new and answer.get("seq"):
        ctx.notifier.publish(sid, int(answer["seq"]))
    return answer, new


def _answer(answer: dict[str, Any], new: bool, status: int = 200) -> Response:
    response = json_response(answer, status=status)
    if not new:
        response.headers["Idempotent-Replay"] = "true"
    return response


@router.post("/sessions/{sid}/commands")
async def post_command(
    sid: str, body: Annotated[AnyCommand, Body()], ctx: Context, caller: Assistant
) -> Response:
    """A floor-assistant command (场控指令): logged as events; a repeated id is answered
    with the first answer (header ``Idempotent-Replay``) and changes nothing."""
    return _answer(*await execute(ctx, sid, caller.name, body))


@router.post("/sessions/{sid}/chains", status_code=201)
async def open_chain(sid: str, body: OpenChain, ctx: Context, caller: Assistant) -> Response:
    """Open a 接龙 on a product of the lineup (floor assistant)."""
    return _answer(*await execute(ctx, sid, caller.name, body), status=201)


class CommandIdIn(StrictBody):
    command_id: CommandId


@router.post("/sessions/{sid}/chains/{chain_id}/close")
async def close_chain(
    sid: str,
    chain_id: Annotated[str, Path(min_length=1, max_length=64)],
    body: CommandIdIn,
    ctx: Context,
    caller: Assistant,
) -> Response:
    """Close a 接龙 now: a formed one closes; one short of its threshold fails."""
    command = CloseChain(command_id=body.command_id, chain_id=chain_id)
    return _answer(*await execute(ctx, sid, caller.name, command))
