# tmux_lib.sh - driving the playground in tmux; source after tests/lib.sh and
# after setting SOCK. Every wait polls the screen with a timeout. Each play
# gets a server of its own: reusing a socket right after kill-server races
# with the old server's exit. For the same reason each play writes its exit
# status to a file of its own, $EXIT: a session being killed may still be
# finishing its last command and would otherwise leave its status (0, from
# the q that ended it) where the next play's is awaited.
PLAYS=0
EXIT=$TMP/exit.0
t() { tmux -L "$SOCK-$PLAYS" "$@"; }
kill_all_servers() {
    i=0
    while [ "$i" -le "$PLAYS" ]; do tmux -L "$SOCK-$i" kill-server 2>/dev/null; i=$((i + 1)); done
}
screen() { t capture-pane -p -t main 2>/dev/null; }
screen_escapes() { t capture-pane -p -e -t main 2>/dev/null; }
keys() { t send-keys -t main "$@"; }
status_line() { screen | grep -E '^T=' | head -1; }
title_line() { screen | head -1; }

# wait_for ERE [SECONDS]: until the screen matches.
wait_for() {
    n=$(( ${2:-5} * 20 ))
    while [ "$n" -gt 0 ]; do
        screen | grep -Eq -- "$1" && return 0
        sleep 0.05
        n=$((n - 1))
    done
    return 1
}

# wait_gone ERE [SECONDS]: until the screen no longer matches.
wait_gone() {
    n=$(( ${2:-5} * 20 ))
    while [ "$n" -gt 0 ]; do
        screen | grep -Eq -- "$1" || return 0
        sleep 0.05
        n=$((n - 1))
    done
    return 1
}

# play COLS ROWS [ENV=VALUE...] -- [ARGS...]: a fresh playground session; when
# it ends, its exit status goes to $EXIT and the terminal's modes after it
# (stty -a) to $TMP/stty.
play() {
    cols=$1 rows=$2
    shift 2
    envs=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs '$1'"; shift; done
    [ "${1:-}" = "--" ] && shift
    args=""
    for a in "$@"; do args="$args '$a'"; done
    t kill-server 2>/dev/null
    PLAYS=$((PLAYS + 1))
    EXIT=$TMP/exit.$PLAYS
    t new-session -d -s main -x "$cols" -y "$rows" \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME='$TMP/state' $envs '$TEMPEST' --model '$MODEL' $args; echo \$? > '$EXIT.tmp'; stty -a > '$TMP/stty' 2>&1; mv '$EXIT.tmp' '$EXIT'; sleep 30"
}

# wait_exit: the exit status of the last play once it has ended (5 s at most).
wait_exit() {
    n=100
    while [ ! -s "$EXIT" ] && [ "$n" -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
    cat "$EXIT" 2>/dev/null
}

# skip_unless_ready "CHECKS": every check SKIPs and the suite ends when tmux
# or the model is missing.
skip_unless_ready() {
    why=""
    command -v tmux >/dev/null 2>&1 || why="tmux is not installed"
    [ -z "$why" ] && [ ! -r "$MODEL" ] && why="no model at $MODEL"
    [ -z "$why" ] && return 0
    for c in $1; do skip "$c" "$why"; done
    exit 0
}
