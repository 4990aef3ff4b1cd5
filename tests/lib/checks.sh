# What the shell suites share (source it after setting MODE and scratch): the pass/fail counters,
# checks on a command's output, and running a command as the suite's user.
#
#   pass NAME | fail NAME [DETAILS]      count a check (DETAILS: printed indented, 20 lines)
#   expect NAME PATTERN TEXT             TEXT matches the extended regex PATTERN
#   reject NAME PATTERN TEXT             TEXT does not match it
#   as_user COMMAND...                   as root, or as uid 65534 when MODE=nobody, with
#                                        HOME=$scratch/home, no XDG_RUNTIME_DIR (so the control
#                                        directory is /run/airlock or /tmp/airlock-65534) and
#                                        the words of AS_USER_ENV (NAME=VALUE) added
passed=0
failed=0
AS_USER_ENV=()

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/     | /' | head -20
  return 0
}
expect() {
  if printf '%s\n' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1: no /$2/" "$3"; fi
}
reject() {
  if printf '%s\n' "$3" | grep -Eq -- "$2"; then fail "$1: /$2/ matched" "$3"; else pass "$1"; fi
}
as_user() {
  if [ "$MODE" = nobody ]; then
    setpriv --reuid=65534 --regid=65534 --clear-groups -- \
      env -u XDG_RUNTIME_DIR HOME="$scratch/home" "${AS_USER_ENV[@]}" "$@"
  else
    env -u XDG_RUNTIME_DIR HOME="$scratch/home" "${AS_USER_ENV[@]}" "$@"
  fi
}
