#!/usr/bin/env bash
# The README's screenshots (docs/*.png), offscreen at 1920x1080, 按自提点 (D) on in both live
# views: the embedded demo as host and as assistant, mid-show (minute 57 of the script: the 接龙 filling). Usage: tools/readme_screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
export XDG_CONFIG_HOME="$config"
mkdir -p "$config/zhibo-console"
printf '[live_window]\nby_point=true\n' > "$config/zhibo-console/windows.ini"
for role in host assistant; do
    .venv/bin/python main.py --as "$role" --speed 20 --screenshot "docs/$role.png" --exit-after 172
done
# The host's aids, on a rehearsal paused at a moment of the script (--speed 0 --until M: the
# console's clocks read the script's time): host view at minute 22.8 (车厘子 presented, its
# 话术 on the card, the S2 圈层流失 prompt of minute ~21.8 on the board); assistant view at
# minute 24.6 (the 秒杀 on cherries counting down on the card).
printf '[live_window]\nby_point=false\n' > "$config/zhibo-console/windows.ini"
.venv/bin/python main.py --as host --speed 0 --until 22.8 \
    --screenshot docs/host-prompt-script.png --exit-after 15
.venv/bin/python main.py --as assistant --speed 0 --until 24.6 \
    --screenshot docs/assistant-flash.png --exit-after 15
