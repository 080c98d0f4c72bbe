"""Request bodies shared by the API and the file importers (one validation for both)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from console.domain.catalog import fen_from_yuan
from console.domain.segments import Segment

MAX_AUDIENCE_MEMBERS = 100_000
MAX_PRICE_YUAN = 1_000_000  # ten thousand times a premium gift box: a typo, not a price
MAX_STOCK = 10_000_000


class OfferIn(BaseModel):
    product_id: str = Field(min_length=1, max_length=64)
    segment: Segment | None = Field(default=None, description="null: the standard offer")
    price: float = Field(ge=0, le=MAX_PRICE_YUAN, description="yuan")
    perk: str = Field(default="", max_length=60)
    limit: int = Field(default=0, ge=0, le=999, description="per member; 0: no limit")
    visible: bool = True


class AudienceIn(BaseModel):
    """受众: members in any of these circles, carrying this tag, or listed (any match)."""

    segments: list[Segment] = Field(default_factory=list, max_length=6)
    tag: str = Field(default="", max_length=32)
    members: list[str] = Field(default_factory=list, max_length=MAX_AUDIENCE_MEMBERS)


class CatalogIn(BaseModel):
    lineup: list[str] = Field(max_length=200, description="product ids in presentation order")
    offers: list[OfferIn] = Field(default_factory=list, max_length=2_000)
    audience: AudienceIn | None = None

    def offer_rows(self) -> list[dict[str, Any]]:
        """The offers as the store keeps them: prices in fen."""
        return [{**o.model_dump(), "price": fen_from_yuan(o.price)} for o in self.offers]
