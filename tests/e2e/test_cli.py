"""The command line as a user runs it: the embedded demo, console mode, bad arguments."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from console.store.schema import open_store
from tests.data.heavy_tail import generate, load_into
from tests.helpers import MAIN_PY, ROOT, StoreProcess, event, post, wait_for

pytestmark = pytest.mark.slow


def run_main(*args: str, env_home: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        env[name] = str(env_home / name.lower())
    return subprocess.run(
        [sys.executable, str(MAIN_PY), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        check=False,
    )


def processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def colour_share(path: Path, rgb: tuple[int, int, int], tolerance: int = 24) -> float:
    """The share of an image's pixels within ``tolerance`` of the colour ``rgb``."""
    image = QImage(str(path))
    step = 2
    hits = total = 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            colour = image.pixelColor(x, y)
            total += 1
            close = (
                abs(colour.red() - rgb[0]) <= tolerance
                and abs(colour.green() - rgb[1]) <= tolerance
                and abs(colour.blue() - rgb[2]) <= tolerance
            )
            hits += close
    return hits / total


def non_background_share(path: Path) -> float:
    image = QImage(str(path))
    background = image.pixelColor(2, image.height() - 2)
    step = 7
    samples = [
        (x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)
    ]
    differing = sum(1 for x, y in samples if image.pixelColor(x, y) != background)
    return differing / len(samples)


def test_embedded_demo_runs_shows_the_room_and_leaves_no_process(tmp_path: Path) -> None:
    shot = tmp_path / "demo.png"
    result = run_main(
        "--speed", "30", "--screenshot", str(shot), "--exit-after", "6", env_home=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert shot.exists()
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1920, 1080)
    assert non_background_share(shot) > 0.2  # panels, bars and text were drawn
    data_dir = tmp_path / "xdg_data_home" / "zhibo-console"
    assert (data_dir / "store.db").exists()  # the store lives in the user's data dir
    wait_for(  # the console has exited; its store goes with it
        lambda: processes_mentioning(str(data_dir)) == [],
        message=lambda: f"still running: {processes_mentioning(str(data_dir))}",
    )


def test_console_mode_screenshot(tmp_path: Path, shared_store: StoreProcess) -> None:
    sid = shared_store.new_session("臻纯牧场《夏日冰饮季》")
    post(shared_store, sid, [event("viewer_joined", f"m{n:05d}") for n in range(1, 31)])
    shot = tmp_path / "console.png"
    result = run_main(
        "console",
        "--store",
        shared_store.url,
        "--token",
        shared_store.token("host"),
        "--session",
        sid,
        "--screenshot",
        str(shot),
        "--exit-after",
        "3",
        env_home=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert QImage(str(shot)).width() == 1920


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("serve",), "main.py serve：错误：缺少必需的参数：--db"),
        (("serve", "--db", "x.db", "--port", "http"), "不是有效的 TCP 端口"),
        (
            ("simulate", "--store", "http://127.0.0.1:9", "--token", "t", "--scenario", "nope"),
            "unknown scenario 'nope'",
        ),
        (
            (
                "simulate",
                "--store",
                "http://127.0.0.1:9",
                "--token",
                "t",
                "--scenario",
                "xianzhida-summer-light",
            ),
            "cannot reach the store",
        ),
        (("--screenshot", "x.png"), "main.py：错误：--screenshot 需要同时给出 --exit-after"),
        (("token", "create", "--db", "x.db", "--role", "admin"), "参数 --role：无效的选择 'admin'"),
    ],
)
def test_bad_arguments_give_one_clear_line_and_nonzero_status(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_main(*args, env_home=tmp_path, timeout=30)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def simulate(store: StoreProcess, role: str, home: Path, *extra: str) -> Any:
    scenario = ("--scenario", "xianzhida-summer-light")
    return run_main(
        "simulate",
        "--store",
        store.url,
        "--token",
        store.token(role),
        *scenario,
        *extra,
        env_home=home,
    )


def test_simulate_with_an_operator_token_prints_the_session(
    shared_store: StoreProcess, tmp_path: Path
) -> None:
    result = simulate(shared_store, "operator", tmp_path, "--speed", "0")
    assert result.returncode == 0, result.stderr
    sid = result.stdout.splitlines()[0].removeprefix("session ")
    with shared_store.client("host") as client:
        state = client.get(f"/sessions/{sid}/state").json()
        session = client.get(f"/sessions/{sid}").json()
    assert state["watched"] == 105
    assert session["status"] == "ended"
    assert session["audience"]["reached"] == 120
    # The scenario's floor assistant and buyers: products presented, a 接龙, orders.
    assert state["presenting"] == "xzd-pack"
    assert [n["text"] for n in state["notices"]][-1] == "接龙链接已发到群里，最后5分钟！"
    (chain,) = state["chains"].values()
    assert chain["product_id"] == "xzd-pack"
    assert sum(chain["by_point"].values()) == chain["entries"]
    # Seed 003's result, from the log through the stats code: 120 reached, 105 watched
    # (87.5%), 82 in the chain (78.1% of watchers), one 298 bundle each; the 秒杀 on
    # cherries (68 yuan a box) adds its boxes to the GMV.
    with shared_store.client("operator") as client:
        total = client.get(f"/sessions/{sid}/stats").json()["total"]
        log: list[dict[str, Any]] = []
        while page := client.get(
            f"/sessions/{sid}/events", params={"after": len(log), "limit": 5000}
        ).json()["events"]:
            log += page
    flash_boxes = sum(
        e["data"]["quantity"]
        for e in log
        if e["type"] == "order_placed" and e["data"].get("flash_sale_id")
    )
    assert flash_boxes > 0
    assert total["reached"] == 120
    assert total["watched"] == 105
    assert total["watch_conversion"] == 0.875
    assert total["chain_entrants"] == chain["entries"] == 82
    assert total["chain_conversion"] == 0.781
    assert total["gmv"] == pytest.approx(82 * 298 + 68 * flash_boxes)
    assert total["aov"] == pytest.approx(total["gmv"] / total["buyers"], abs=0.01)
    assert total["chains_formed"] == 1.0


def test_simulate_until_a_minute_leaves_the_rehearsal_live_there(
    shared_store: StoreProcess, tmp_path: Path
) -> None:
    result = simulate(shared_store, "operator", tmp_path, "--speed", "0", "--until", "24.6")
    assert result.returncode == 0, result.stderr
    sid = result.stdout.splitlines()[0].removeprefix("session ")
    with shared_store.client("host") as client:
        session = client.get(f"/sessions/{sid}").json()
        state = client.get(f"/sessions/{sid}/state").json()
        log = client.get(f"/sessions/{sid}/events", params={"limit": 5000}).json()["events"]
    assert session["status"] == "live"
    assert session["clock"] == "rehearsal"
    minutes = [(e["ts"] - session["started_at"]) / 60 for e in log]
    assert 24 < max(minutes) <= 24.6 + 1 / 60  # whole seconds: started_at is rounded down
    assert state["presenting"] == "xzd-cherry"
    assert state["flash_sales"]["xzd-cherry"]["ends_at"] > log[-1]["ts"]  # still running


def test_simulate_with_an_ingest_token_sends_into_a_given_session(
    shared_store: StoreProcess, tmp_path: Path
) -> None:
    refused = simulate(shared_store, "ingest", tmp_path)
    assert refused.returncode == 2
    assert "operator token" in refused.stderr
    waiting = shared_store.new_session("未开播的彩排", live=False)
    early = simulate(shared_store, "ingest", tmp_path, "--speed", "0", "--session", waiting)
    assert early.returncode == 2
    assert "直播尚未开始" in early.stderr
    assert "an operator starts it first" in early.stderr
    with shared_store.client("host") as client:
        assert client.get(f"/sessions/{waiting}").json()["status"] == "scheduled"
    sid = shared_store.new_session("彩排")
    sent = simulate(shared_store, "ingest", tmp_path, "--speed", "0", "--session", sid)
    assert sent.returncode == 0, sent.stderr
    with shared_store.client("host") as client:
        assert client.get(f"/sessions/{sid}/state").json()["watched"] == 105


def test_token_create_prints_a_token_that_the_store_accepts(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    result = run_main("token", "create", "--db", str(db), "--role", "host", env_home=tmp_path)
    assert result.returncode == 0
    token = result.stdout.strip()
    assert token.startswith("lc_")
    import sqlite3

    with sqlite3.connect(db) as conn:
        stored = [r[0] for r in conn.execute("SELECT hash FROM tokens")]
    assert token not in stored
    assert len(stored) == 1


def test_import_and_segment_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "brand.db"
    sample = ROOT / "tests" / "data" / "online_retail_sample.csv"
    mapping = ROOT / "tests" / "data" / "retail_map.toml"

    def import_sample(*extra: str) -> subprocess.CompletedProcess[str]:
        return run_main(
            "import",
            "orders",
            str(sample),
            "--db",
            str(db),
            "--map-file",
            str(mapping),
            *extra,
            env_home=tmp_path,
        )

    refused = import_sample()
    assert refused.returncode == 1
    assert "online_retail_sample.csv:8: CustomerID (member_id): 必填" in refused.stderr
    assert "全部未导入" in refused.stderr
    rejects = tmp_path / "rejects.csv"
    applied = import_sample("--skip-bad", "--rejects", str(rejects))
    assert applied.returncode == 0, applied.stderr
    assert "订单新增 11，更新 0" in applied.stdout
    assert rejects.read_text(encoding="utf-8").count("\n") == 5  # header and 4 rows
    segmented = run_main("segment", "--db", str(db), "--as-of", "2010-12-09", env_home=tmp_path)
    assert segmented.returncode == 0, segmented.stderr
    assert "会员 9，活跃 7" in segmented.stdout
    bad_date = run_main("segment", "--db", str(db), "--as-of", "yesterday", env_home=tmp_path)
    assert bad_date.returncode == 2
    assert "不是 2026-11-21 这样的日期" in bad_date.stderr
    bad_map = run_main(
        "import", "orders", str(sample), "--db", str(db), "--map", "price=X", env_home=tmp_path
    )
    assert bad_map.returncode == 2
    assert "'price' 不是 orders 的字段" in bad_map.stderr


def test_segment_refuses_old_data_and_live_sessions(tmp_path: Path) -> None:
    db = tmp_path / "old-shop.db"
    store = open_store(db)
    load_into(store, generate(400, seed=7))
    store.close()
    today = run_main("segment", "--db", str(db), env_home=tmp_path)
    assert today.returncode != 0
    assert "main.py：错误：最新订单是 2018-09-03；" in today.stderr
    assert "请用 --as-of 2018-09-03，或加大窗口（--window-days）" in today.stderr
    at_newest = run_main("segment", "--db", str(db), "--as-of", "2018-09-03", env_home=tmp_path)
    assert at_newest.returncode == 0, at_newest.stderr
    assert "截至 2018-09-03，365 天窗口" in at_newest.stdout
    wide = run_main("segment", "--db", str(db), "--window-days", "4000", env_home=tmp_path)
    assert wide.returncode == 0, wide.stderr
    assert "4000 天窗口" in wide.stdout
    no_window = run_main("segment", "--db", str(db), "--window-days", "0", env_home=tmp_path)
    assert no_window.returncode != 0
    assert "--window-days 必须在 1 到 36500 之间" in no_window.stderr
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO sessions (id, title, status, created_at, last_seq) "
            "VALUES ('s_live', '直播中', 'live', 0, 0)"
        )
    live = run_main("segment", "--db", str(db), "--as-of", "2018-09-03", env_home=tmp_path)
    assert live.returncode != 0
    assert "有 1 场直播正在进行" in live.stderr
    forced = run_main(
        "segment", "--db", str(db), "--as-of", "2018-09-03", "--force", env_home=tmp_path
    )
    assert forced.returncode == 0, forced.stderr


def test_report_writes_the_review_files(shared_store: StoreProcess, tmp_path: Path) -> None:
    result = simulate(shared_store, "operator", tmp_path, "--speed", "0")
    sid = result.stdout.splitlines()[0].removeprefix("session ")
    out = tmp_path / "report"
    made = run_main(
        "report",
        "--store",
        shared_store.url,
        "--token",
        shared_store.token("operator"),
        "--session",
        sid,
        "--out",
        str(out),
        env_home=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "gmv.png",
        "gmv_by_segment.png",
        "koc_leaderboard.csv",
        "ltv.csv",
        "new_neighbours.csv",
        "report.html",
        "repurchase.csv",
        "segments.csv",
        "stats.json",
        "timeline.csv",
        "viewers.png",
    ]
    with shared_store.client("operator") as client:
        expected = client.get(f"/sessions/{sid}/stats").json()
    assert json.loads((out / "stats.json").read_text(encoding="utf-8")) == expected
    with (out / "segments.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["segment"] == "total"
    assert (rows[0]["reached"], rows[0]["watched"]) == ("120", "105")
    assert float(rows[0]["aov"]) == expected["total"]["aov"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "复盘报告 · 鲜直达《夏日轻食计划》" in page
    assert "87.5%" in page  # watch conversion
    # The host's aids (console.domain.aids): the draw, the 秒杀 (ended on its timer), prompts.
    assert "<td>《7天轻食食谱》签名版</td>" in page
    assert "<td>车厘子 2斤</td><td>¥68</td>" in page
    assert "<td>到时结束</td>" in page
    assert "本场没有触发场控提示" not in page
    assert "78.1%" in page  # chain conversion
    assert QImage(str(out / "viewers.png")).width() == 1200
    # "订单与 GMV" draws the orders too (it drew only GMV): their blue line is there.
    assert colour_share(out / "gmv.png", (0x4A, 0xA3, 0xFF)) > 0.002


SHOP_MAP = "order_id=A,member_id=B,ts=C,amount=D,status=E"


def member_scores(db: Path, member: str) -> tuple[int, float]:
    """(frequency, monetary) of ``member`` in the latest segmentation run."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT frequency, monetary FROM member_scores WHERE member_id = ? "
            "AND run_id = (SELECT max(id) FROM segment_runs)",
            [member],
        ).fetchone()
    return int(row[0]), float(row[1])


def test_import_orders_with_status_then_segment_leaves_cancelled_out(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    export = tmp_path / "shop.csv"
    export.write_text(
        "A,B,C,D,E\n"
        "E1,c1,2026-11-01 10:00,72.05,交易成功\n"
        "E2,c1,2026-11-02 10:00,999.99,已取消\n"
        "E3,c1,2026-11-03 10:00,50,退款成功\n"
        "E4,c2,2026-11-03 11:00,30,refunded\n"
        "E5,c3,2026-11-04 09:00,20,已拒收\n",
        encoding="utf-8",
    )
    imported = run_main(
        "import", "orders", str(export), "--db", str(db), "--map", SHOP_MAP,
        "--status-map", "已拒收=cancelled", env_home=tmp_path,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "5 行，接受 5，拒绝 0；订单新增 5" in imported.stdout
    assert "按状态：placed 0，paid 1，cancelled 2，refunded 2" in imported.stdout
    segmented = run_main("segment", "--db", str(db), "--as-of", "2026-11-10", env_home=tmp_path)
    assert segmented.returncode == 0, segmented.stderr
    assert member_scores(db, "c1") == (1, pytest.approx(72.05))
    assert member_scores(db, "c2") == (0, 0.0)
    assert member_scores(db, "c3") == (0, 0.0)
    unknown = run_main(
        "import", "orders", str(export), "--db", str(db), "--map", SHOP_MAP, env_home=tmp_path
    )
    assert unknown.returncode == 1
    assert "shop.csv:6: E (status): 无法识别的订单状态 '已拒收'；可识别的状态" in unknown.stderr


def test_a_repeated_order_id_refuses_the_import_unless_lines(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    export = tmp_path / "orders.csv"
    export.write_text(
        "A,B,C,D,E\n"
        "O1,m1,2026-11-01 10:00,72.05,paid\n"
        "O2,m2,2026-11-01 11:00,10,paid\n"
        "O1,m1,2026-11-01 10:00,999.99,paid\n",
        encoding="utf-8",
    )

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return run_main(
            "import", "orders", str(export), "--db", str(db), "--map", SHOP_MAP, *extra,
            env_home=tmp_path,
        )  # fmt: skip

    refused = run()
    assert refused.returncode == 1
    assert "orders.csv:2: A (order_id): 'O1' 重复：第 2、4 行内容不同" in refused.stderr
    assert "orders.csv:4: A (order_id): 'O1' 重复：第 2、4 行内容不同" in refused.stderr
    assert "3 行中有 2 行有问题，全部未导入" in refused.stderr
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
    summed = run("--lines")
    assert summed.returncode == 0, summed.stderr
    assert "3 行，接受 3，拒绝 0，1 行明细并入所属订单" in summed.stdout
    with sqlite3.connect(db) as conn:
        amounts = dict(conn.execute("SELECT order_id, amount FROM orders").fetchall())
    assert amounts == {"O1": pytest.approx(1072.04), "O2": 10.0}
    wrong_kind = run_main(
        "import", "members", str(export), "--db", str(db), "--lines", env_home=tmp_path
    )
    assert wrong_kind.returncode == 2
    assert "--lines 和 --status-map 只用于 orders" in wrong_kind.stderr


def test_import_help_lists_every_field_and_status(tmp_path: Path) -> None:
    from console.domain.order_status import DEFAULT_VALUES
    from console.store.imports.mapping import FIELDS

    shown = run_main("import", "--help", env_home=tmp_path)
    assert shown.returncode == 0
    text = shown.stdout
    for kind, names in FIELDS.items():
        block = text.split(f"  {kind}:\n", 1)[1].split(":\n", 1)[0]
        for name in names:
            assert f"\n    {name}" in "\n" + block, (kind, name)
    assert "    lat          latitude, with lon" in text  # members' location
    assert "    status       the order's status" in text
    for status, words in DEFAULT_VALUES.items():
        assert f"  {status:<11}{words[0]}" in text
    for word in ("已取消", "已退款", "交易关闭", "退款成功", "待付款", "unavailable", "closed"):
        assert word in text
    assert "--lines" in text
    assert "--status-map" in text
