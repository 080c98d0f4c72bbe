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
