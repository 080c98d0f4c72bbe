"""Invitations per circle (预热蓄水): who is invited, with what text, through which channel,
and the funnel invite -> reservation -> watch -> order.

Each circle has its own template (seed 000: 尊享 for S1, 性价比 for S4 ...). Recipients are the
members of the template's circles (and, when the session has an audience (受众), of that
audience too: a member outside it is never invited, whatever their circle), except:

- members who opted out (``members.opted_out``): seed 001's opt-out of personalisation is
  honoured for marketing messages too; an opted-out member is never selected;
- members who already had ``monthly_cap`` invitations in the calendar month (China time) of
  the export, counted from the invitations recorded (every export records what it sent);
- members already invited to this session (an export run twice sends nothing twice).

A recipient is reached through the first channel that can reach them: 企业微信 (a WeCom
external contact bound to the member), else SMS (a phone number), else their 团长's group
message (the pickup point of their last live order, else the nearest one). Each invitation has
its own code; a reservation made with it (typed in the group, or given to the API) ties the
member's path back to the invitation, so the funnel is counted per circle and per 团长:

- invited: invitations recorded for the session;
- reserved: invited members whose reservation for the session names their invitation's code;
- watched: of those, the ones with a ``viewer_joined`` in the session's log;
- ordered: of those, the ones with a standing order (not cancelled) in the session.

Each stage is a subset of the one before; each rate is a ``Rate`` over the previous stage.
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from console.domain.metrics import Rate
from console.domain.segments import Segment

CHINA_OFFSET_HOURS = 8.0
DEFAULT_MONTHLY_CAP = 4
MAX_MONTHLY_CAP = 31
SMS_SINGLE = 70  # characters in one SMS (UCS-2, Chinese)
SMS_PART = 67  # characters per part of a long (concatenated) SMS
CODE_LENGTH = 8
# No 0/O, 1/I/L: a code read off a phone screen and typed into a group is typed right.
CODE_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL")
PLACEHOLDERS = frozenset({"title", "code", "leader", "point", "circle_name"})
# {nick} is no placeholder of a text sent to the member themselves: the only name an export
# may carry is the masked nick (林*薇), which greets nobody ("林*您好"), and the members hold no
# gender for "林女士"; such a text greets without a name ("您好，…"). See ``NICK_REFUSED``.
NICK_REFUSED = (
    "{nick} 不能用在发给会员本人的文字里：导出只带打码昵称（林*薇），称呼会变成“林*您好”；"
    "请写“您好，…”"
)
OPT_OUT = "拒收请回复R"  # the SMS's opt-out line (退订提示), at its end
MAX_SIGNATURE = 12
GROUP_PLACEHOLDERS = frozenset({"title", "leader", "point", "codes", "circle_name"})
TOTAL = "total"
NO_LEADER = "未分配团长"


class Channel(StrEnum):
    WECOM = "wecom"  # 企业微信 客户群发
    SMS = "sms"
    GROUP = "group"  # the 团长's group message


class Skip(StrEnum):
    """Why a member of a template's circle was not invited."""

    OPTED_OUT = "opted_out"
    CAPPED = "monthly_cap"
    ALREADY_INVITED = "already_invited"
    UNREACHABLE = "unreachable"  # no WeCom contact, no phone, no pickup point
    NOT_IN_AUDIENCE = "not_in_audience"  # in a template's circle, outside the session's audience


@dataclass(frozen=True, slots=True)
class Template:
    circle: Segment
    text: str  # to one member (WeCom, SMS); placeholders in PLACEHOLDERS
    group_text: str  # the 团长's group message; placeholders in GROUP_PLACEHOLDERS
    tag: str  # the WeCom tag the mass-send is filed under
    signature: str = ""  # the SMS signature (签名: 鲜直达), sent as 【鲜直达】 first


@dataclass(frozen=True, slots=True)
class Recipient:
    """A member as the export sees them."""

    member_id: str
    nick: str  # masked (林*薇): the only name an invitation carries
    circle: Segment | None
    opted_out: bool
    phone: str = ""
    wecom_id: str = ""  # WeCom external_userid bound to the member
    point_id: str = ""
    leader: str = ""
    point_name: str = ""


@dataclass(frozen=True, slots=True)
class Invitation:
    code: str
    member_id: str
    circle: Segment
    channel: Channel
    point_id: str
    leader: str
    text: str


@dataclass
class Selection:
    invitations: list[Invitation] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: Skip) -> None:
        self.skipped[why.value] = self.skipped.get(why.value, 0) + 1


def audience_of(summary: Mapping[str, Any], members: Iterable[str]) -> frozenset[str] | None:
    """The session's audience for an export: the members recorded in it, when it has one
    (its stored summary names circles, a tag or members, or members are recorded: an
    audience that reached nobody still limits the export to nobody); None without one."""
    listed = frozenset(members)
    named = any(summary.get(key) for key in ("segments", "tag", "members"))
    return listed if named or listed else None


def sms_phone(phone: str) -> str:
    """A phone as an SMS gateway reads it: digits only, a country code kept as digits
    ("+86 138-0000-0000" -> "8613800000000"); never a cell a spreadsheet would run."""
    return "".join(c for c in phone if c.isascii() and c.isdigit())


def month_of(ts: float, utc_offset_hours: float = CHINA_OFFSET_HOURS) -> str:
    """The calendar month (``2026-11``) of ``ts`` in the brand's zone (China by default)."""
    moment = datetime.fromtimestamp(ts, UTC) + timedelta(hours=utc_offset_hours)
    return f"{moment.year:04d}-{moment.month:02d}"


def code_from(random_value: int) -> str:
    """An invitation code from a random number the caller drew (the domain draws nothing):
    8 characters of ``CODE_ALPHABET``, never all digits (a bind code is 6 digits)."""
    base = len(CODE_ALPHABET)
    chars = []
    value = random_value
    for _ in range(CODE_LENGTH):
        value, index = divmod(value, base)
        chars.append(CODE_ALPHABET[index])
    if all(c.isdigit() for c in chars):
        chars[0] = "Y"
    return "".join(chars)


def channel_for(recipient: Recipient) -> Channel | None:
    if recipient.wecom_id:
        return Channel.WECOM
    if recipient.phone:
        return Channel.SMS
    if recipient.point_id:
        return Channel.GROUP
    return None


def home_point(last_order_point: str, nearest_point: str) -> str:
    """A member's 团长: the pickup point of their last live order (where they actually
    collect), else the one nearest their location, else none ("")."""
    return last_order_point or nearest_point


def sms_text(signature: str, body: str) -> str:
    """An SMS as the gateway sends it: 【signature】 first, the opt-out line (``OPT_OUT``)
    last, both counted in its characters and parts (``sms_parts``)."""
    head = f"【{signature}】" if signature else ""
    return f"{head}{body}{OPT_OUT}"


def sms_parts(text: str) -> int:
    """How many SMS a text is sent as: one up to 70 characters, else 67 per part."""
    return 1 if len(text) <= SMS_SINGLE else math.ceil(len(text) / SMS_PART)


def render(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its ``{name}`` placeholders filled (the template file is checked to use
    only known ones, ``unknown_placeholders``)."""
    return string.Formatter().vformat(text, (), dict(values))


def unknown_placeholders(text: str, allowed: Set[str]) -> list[str]:
    """Placeholders in ``text`` not in ``allowed`` (or malformed braces, as ``{``)."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        return [f"格式错误：{exc}"]
    return [name or "{}" for name in names if name not in allowed]


def select(
    recipients: Iterable[Recipient],
    templates: Mapping[Segment, Template],
    sent_this_month: Mapping[str, int],
    already_invited: Set[str],
    monthly_cap: int,
    codes: Iterable[str],
    title: str,
    circle_names: Mapping[Segment, str] | None = None,
    audience: Set[str] | None = None,
) -> Selection:
    """Who is invited and with what text. ``sent_this_month``: invitations each member
    already had in the export's month; ``codes``: fresh codes, one taken per invitation
    (the caller draws them and guarantees they are unused); ``audience``: the session's
    audience (member ids) when it has one, None when it has none (the templates' circles
    alone decide). Members are taken in id order; a member gets at most one invitation per
    export, and none that would exceed the cap; a member of a template's circle outside the
    audience is skipped (``Skip.NOT_IN_AUDIENCE``)."""
    names = circle_names or {}
    fresh = iter(codes)
    selection = Selection()
    for recipient in sorted(recipients, key=lambda r: r.member_id):
        template = templates.get(recipient.circle) if recipient.circle else None
        if template is None:
            continue  # not in a circle this file invites
        if audience is not None and recipient.member_id not in audience:
            selection.skip(Skip.NOT_IN_AUDIENCE)
            continue
        if recipient.opted_out:
            selection.skip(Skip.OPTED_OUT)
            continue
        if recipient.member_id in already_invited:
            selection.skip(Skip.ALREADY_INVITED)
            continue
        if sent_this_month.get(recipient.member_id, 0) + 1 > monthly_cap:
            selection.skip(Skip.CAPPED)
            continue
        channel = channel_for(recipient)
        if channel is None:
            selection.skip(Skip.UNREACHABLE)
            continue
        code = next(fresh)
        values = {
            "title": title,
            "code": code,
            "leader": recipient.leader,
            "point": recipient.point_name,
            "circle_name": names.get(template.circle, ""),
        }
        selection.invitations.append(
            Invitation(
                code=code,
                member_id=recipient.member_id,
                circle=template.circle,
                channel=channel,
                point_id=recipient.point_id,
                leader=recipient.leader,
                text=_text_for(channel, template, render(template.text, values)),
            )
        )
    return selection


def _text_for(channel: Channel, template: Template, body: str) -> str:
    return sms_text(template.signature, body) if channel is Channel.SMS else body


@dataclass(frozen=True, slots=True)
class GroupMessage:
    """One 团长's message for one circle's members in their group."""

    point_id: str
    leader: str
    circle: Segment
    text: str


def group_messages(
    invitations: Sequence[Invitation],
    recipients: Mapping[str, Recipient],
    templates: Mapping[Segment, Template],
    title: str,
    circle_names: Mapping[Segment, str] | None = None,
) -> list[GroupMessage]:
    """Per 团长 and circle, the group text for the members reached through the group only:
    the circle's ``group_text`` with ``{codes}`` as one line per member ("@林*薇 预约码 K7F3Q2")."""
    names = circle_names or {}
    by_leader: dict[tuple[str, Segment], list[Invitation]] = {}
    for invitation in invitations:
        if invitation.channel is Channel.GROUP:
            by_leader.setdefault((invitation.point_id, invitation.circle), []).append(invitation)
    messages = []
    for (point, circle), members in sorted(by_leader.items()):
        first = recipients[members[0].member_id]
        lines = "\n".join(
            f"@{recipients[i.member_id].nick} 预约码 {i.code}"
            for i in sorted(members, key=lambda i: i.member_id)
        )
        values = {
            "title": title,
            "leader": first.leader,
            "point": first.point_name,
            "codes": lines,
            "circle_name": names.get(circle, ""),
        }
        text = render(templates[circle].group_text, values)
        messages.append(GroupMessage(point, first.leader, circle, text))
    return messages


# -- the funnel --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    """An invitation as recorded: its code, member, circle and 团长."""

    code: str
    member_id: str
    circle: Segment | None
    point_id: str
    leader: str


STAGES = ("invited", "reserved", "watched", "ordered")


@dataclass
class _Stages:
    invited: int = 0
    reserved: int = 0
    watched: int = 0
    ordered: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "invited": self.invited,
            "reserved": self.reserved,
            "watched": self.watched,
            "ordered": self.ordered,
            "reservation_rate": Rate(self.reserved, self.invited).rounded(),
            "watch_rate": Rate(self.watched, self.reserved).rounded(),
            "order_rate": Rate(self.ordered, self.watched).rounded(),
            "invite_to_order": Rate(self.ordered, self.invited).rounded(),
        }


@dataclass(frozen=True)
class Funnel:
    total: dict[str, int]
    by_circle: dict[str, dict[str, int]]
    by_leader: dict[str, dict[str, int]]  # key: pickup point id ("" when none)
    leaders: dict[str, str]  # pickup point id -> 团长

    def to_json(self) -> dict[str, Any]:
        def stages(counts: Mapping[str, int]) -> dict[str, Any]:
            return _Stages(**counts).to_json()

        return {
            "total": stages(self.total),
            "by_segment": {key: stages(v) for key, v in self.by_circle.items()},
            "by_leader": [
                {"point_id": point, "leader": self.leaders.get(point) or NO_LEADER, **stages(v)}
                for point, v in sorted(self.by_leader.items())
            ],
        }


def funnel(
    sent: Iterable[Sent],
    reserved_codes: Mapping[str, str],
    joined: Set[str],
    buyers: Set[str],
) -> Funnel:
    """invite -> reservation -> watch -> order for one session, per circle and per 团长.

    ``reserved_codes``: member -> the invitation code their reservation for the session
    named ("" or absent: not reserved through an invitation); ``joined``: members with a
    ``viewer_joined`` in the log; ``buyers``: members with a standing order in the session.
    """
    total: dict[str, int] = dict.fromkeys(STAGES, 0)
    by_circle: dict[str, dict[str, int]] = {}
    by_leader: dict[str, dict[str, int]] = {}
    leaders: dict[str, str] = {}
    for invitation in sent:
        circle = invitation.circle.value if invitation.circle else "unsegmented"
        columns = [
            total,
            by_circle.setdefault(circle, dict.fromkeys(STAGES, 0)),
            by_leader.setdefault(invitation.point_id, dict.fromkeys(STAGES, 0)),
        ]
        leaders.setdefault(invitation.point_id, invitation.leader)
        member = invitation.member_id
        reached = ["invited"]
        if reserved_codes.get(member) == invitation.code:
            reached.append("reserved")
            if member in joined:
                reached.append("watched")
                if member in buyers:
                    reached.append("ordered")
        for column in columns:
            for stage in reached:
                column[stage] += 1
    return Funnel(total, by_circle, by_leader, leaders)


FUNNEL_HEADERS = ("圈层 / 团长", "邀请", "预约", "到场", "下单", "邀请→下单")
FUNNEL_DEFINITION = (
    "预约 = 用邀请码预约的受邀会员；到场 = 其中进过直播间的；下单 = 其中本场有未取消订单的；"
    "每一级都是上一级的子集。"
)


def funnel_rows(funnel_json: Mapping[str, Any]) -> list[list[object]]:
    """The report's rows from ``/stats``'s ``invitation_funnel``: the total, each circle,
    then each 团长."""
    named = [("合计", funnel_json.get("total") or {})]
    named += list((funnel_json.get("by_segment") or {}).items())
    named += [(str(row.get("leader", "")), row) for row in funnel_json.get("by_leader") or []]
    return [
        [
            name,
            *(int(column.get(stage, 0)) for stage in STAGES),
            Rate(int(column.get("ordered", 0)), int(column.get("invited", 0))).percent(),
        ]
        for name, column in named
    ]
