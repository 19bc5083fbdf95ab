#!/bin/sh
# config.sh - the playground takes its defaults from the config file, and
# its flags beat them.
. "$(dirname "$0")/../lib.sh"
SOCK=tempest-config-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
skip_unless_ready "playground-config playground-flag-beats-config"
mkdir -p "$XDG_CONFIG_HOME/tempest"
printf 'temperature = 0.3\ntop_k = 40\nspeed = 7\ntheme = mono\n' >"$XDG_CONFIG_HOME/tempest/config.ini"
play 120 30
if wait_for '^T=0\.30 +top-k=40' 5 && title_line | grep -q 'speed=7/s.*theme=mono'; then
    pass playground-config
else
    fail playground-config "$(title_line) | $(status_line)"
fi
keys q
play 120 30 -- --top-k 5 --speed 9
if wait_for '^T=0\.30 +top-k=5 ' 5 && title_line | grep -q 'speed=9/s'; then
    pass playground-flag-beats-config
else
    fail playground-flag-beats-config "$(title_line) | $(status_line)"
fi
keys q
