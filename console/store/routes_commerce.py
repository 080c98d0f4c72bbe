"""Commerce routes: the catalog, a session's cards and price ladders, pickup points, orders."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from console.domain.catalog import fen_from_yuan
from console.domain.text import spreadsheet_row
from console.store import catalog, repository
from console.store.auth import Permission
from console.store.deps import Context, Operator, SessionId, json_response, require
from console.store.errors import problem
from console.store.models import MAX_PRICE_YUAN, MAX_STOCK, AudienceIn, CatalogIn, StrictBody
from console.store.orders import OrderRequest, place_order
from console.store.segmentation import CHINA

router = APIRouter(prefix="/api/v1")
Reader = Depends(require(Permission.READ))
Seller = Depends(require(Permission.INGEST))  # the shop front (platform, mini-app) places orders


class ProductIn(StrictBody):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    base_price: float = Field(ge=0, le=MAX_PRICE_YUAN, description="yuan")
    stock: int = Field(ge=0, le=MAX_STOCK)
    emoji: str = Field(default="", max_length=8)
    category: str = Field(default="", max_length=32)


class ProductsIn(StrictBody):
    products: list[ProductIn] = Field(max_length=10_000)


class PointIn(StrictBody):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    leader: str = Field(default="", max_length=32)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str = Field(default="", max_length=200)


class PointsIn(StrictBody):
    points: list[PointIn] = Field(max_length=100_000)


class OrderIn(StrictBody):
    member_id: str = Field(min_length=1, max_length=64)
    product_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=99)
    pickup_point: str | None = Field(default=None, max_length=64)
    referrer: str = Field(
        default="", max_length=64, description="a referral code from a share in this session"
    )
    idempotency_key: str = Field(min_length=8, max_length=128)
    chain_id: str | None = Field(default=None, max_length=64, description="join this 接龙")


@router.put("/products")
async def put_products(body: ProductsIn, ctx: Context, _caller: Operator) -> Response:
    rows = [{**p.model_dump(), "base_price": fen_from_yuan(p.base_price)} for p in body.products]
    return json_response({"products": await ctx.write(catalog.upsert_products, rows)})


@router.put("/sessions/{sid}/catalog")
async def put_catalog(sid: SessionId, body: CatalogIn, ctx: Context, _caller: Operator) -> Response:
    """The session's lineup, each circle's terms and 话术 (and its audience, when given)."""
    audience = body.audience.model_dump() if body.audience else None
    await ctx.write(
        catalog.set_session_catalog,
        sid,
        body.lineup,
        body.offer_rows(),
        audience,
        body.script_rows(),
        body.prompts.settings() if body.prompts else None,
    )
    return json_response(await ctx.read(catalog.session_cards, sid))


@router.put("/sessions/{sid}/audience")
async def put_audience(
    sid: SessionId, body: AudienceIn, ctx: Context, _caller: Operator
) -> Response:
    """Who the session is for: circles, a tag's members and/or a list; returns the reach."""
    summary = await ctx.write(catalog.set_session_audience, sid, body.model_dump())
    return json_response(summary)


@router.get("/sessions/{sid}/cards", dependencies=[Reader])
async def get_cards(sid: SessionId, ctx: Context) -> Response:
    """Every card of the lineup with its price ladder across the circles and its stock."""
    return json_response(await ctx.read(catalog.session_cards, sid))


@router.get("/sessions/{sid}/offers", dependencies=[Depends(require(Permission.INGEST))])
async def get_offers(
    sid: SessionId, ctx: Context, member_id: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The cards one viewer sees, at their own price (权益匹配); no member: the standard."""
    cards = await ctx.read(catalog.member_cards, sid, member_id)
    return json_response({"member_id": member_id, "cards": [c.to_dict() for c in cards]})


@router.put("/pickup-points")
async def put_points(body: PointsIn, ctx: Context, _caller: Operator) -> Response:
    rows = [p.model_dump() for p in body.points]
    return json_response({"points": await ctx.write(catalog.upsert_pickup_points, rows)})


@router.get("/pickup-points", dependencies=[Reader])
async def list_points(ctx: Context) -> Response:
    """Every pickup point with its 团长 (no addresses: consoles may be on stream)."""
    return json_response({"points": await ctx.read(catalog.list_points)})


@router.get("/pickup-points/nearest", dependencies=[Depends(require(Permission.INGEST))])
async def nearest_point(ctx: Context, member_id: Annotated[str, Query(max_length=64)]) -> Response:
    """404 for an unknown member or before any point exists; 409 for a member without a
    location (the member is there, the request is fine: the data lacks what it needs)."""
    try:
        found: dict[str, Any] = await ctx.read(catalog.nearest_point_of_member, member_id)
    except repository.NotFound as exc:
        raise problem(404, "member_id", str(exc)) from exc
    except catalog.NoLocation as exc:
        raise problem(409, "lat", str(exc)) from exc
    except catalog.NoPoints as exc:
        raise problem(404, "pickup_points", str(exc)) from exc
    return json_response(found)


class Location(StrictBody):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class LocationsIn(StrictBody):
    locations: list[Location] = Field(min_length=1, max_length=100_000)


@router.post("/pickup-points/assign", dependencies=[Depends(require(Permission.INGEST))])
async def assign_points(body: LocationsIn, ctx: Context) -> Response:
    """The nearest pickup point for each location, in order (seed 002: orders by address)."""
    lat = [loc.lat for loc in body.locations]
    lon = [loc.lon for loc in body.locations]
    found = await ctx.read(catalog.assign_points, lat, lon)
    if found is None:
        raise problem(404, "pickup_points", "尚未导入自提点")
    return json_response({"assigned": found})


@router.get(
    "/sessions/{sid}/referral-codes/{member_id}",
    dependencies=[Depends(require(Permission.INGEST))],
)
async def get_referral_code(sid: SessionId, member_id: str, ctx: Context) -> Response:
    """A member's referral code (推荐码) for the share link, issued at their first share."""
    code = ctx.read_inline(repository.referral_code, sid, member_id)
    if code is None:
        raise problem(404, "member_id", "该会员还没有分享过本场直播")
    return json_response({"member_id": member_id, "code": code})


@router.post("/sessions/{sid}/orders", status_code=201, dependencies=[Seller])
async def post_order(sid: str, body: OrderIn, ctx: Context) -> Response:
    request = OrderRequest(
        body.member_id,
        body.product_id,
        body.quantity,
        body.pickup_point,
        body.idempotency_key,
        body.referrer,
        body.chain_id,
    )
    answer, new = await ctx.write(place_order, sid, request, ctx.clock)
    if new:
        ctx.notifier.publish(sid, int(answer["seq"]))
    response = json_response(answer, status=201)
    if not new:
        response.headers["Idempotent-Replay"] = "true"
    return response


@router.get("/sessions/{sid}/new-neighbours")
async def get_new_neighbours(
    sid: SessionId,
    ctx: Context,
    _caller: Operator,
    reveal: bool = False,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    """每位团长的新邻居: first-time buyers per pickup point, as JSON or CSV."""
    points = await ctx.read(catalog.new_neighbours, sid, reveal)
    if format == "json":
        return json_response({"points": points})
    out = io.StringIO()
    writer = csv.writer(out)
    # Names and nicks come from members and platforms: a cell starting "=" would run in
    # the leader's spreadsheet (spreadsheet_row neutralises it).
    writer.writerow(
        spreadsheet_row(
            [
                "pickup_point",
                "point_name",
                "leader",
                "member_id",
                "nick",
                *(["name", "phone"] if reveal else []),
                "product_id",
                "ordered_at",
            ]
        )
    )
    for point in points:
        for n in point["neighbours"]:
            writer.writerow(
                spreadsheet_row(
                    [
                        point["pickup_point"],
                        point["name"],
                        point["leader"],
                        n["member_id"],
                        n["nick"],
                        *([n["name"], n["phone"]] if reveal else []),
                        n["product_id"],
                        datetime.fromtimestamp(n["ts"], CHINA).isoformat(timespec="seconds"),
                    ]
                )
            )
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM: Chinese Excel opens it as UTF-8, not as GBK
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="new-neighbours-{sid}.csv"'},
    )
