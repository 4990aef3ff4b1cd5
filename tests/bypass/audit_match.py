#!/usr/bin/python3
"""Does an audit log (JSON Lines) hold an event matching every filter?

  audit_match.py FILE [--count N|--none|--all] FILTER...
    key=value     the field (dotted path: process.exe) equals value (numbers compared as text)
    key~regex     the field, as text, matches the extended regex (re.search)
    key!          the field is absent
    key?          the field is present
    key[]=value   the field is a list holding value
  audit_match.py --batch   specs on stdin (see batch())
Exit 0 when at least one event matches (--count N: exactly N; --none: no event matches;
--all: every event that has the first filter's key matches all the others); otherwise 1, with
the closest events on stderr so a failing check says why.
"""
import io
import json
import re
import sys

MISSING = object()


def field(event, path):
    value = event
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def as_text(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check(event, expression):
    if expression.endswith("!"):
        return field(event, expression[:-1]) is MISSING
    if expression.endswith("?"):
        return field(event, expression[:-1]) is not MISSING
    for operator in ("[]=", "=", "~"):
        at = expression.find(operator)
        if at > 0:
            key, wanted = expression[:at], expression[at + len(operator):]
            break
    else:
        raise SystemExit(f"bad filter {expression!r}")
    value = field(event, key)
    if value is MISSING:
        return False
    if operator == "[]=":
        return isinstance(value, list) and any(as_text(item) == wanted for item in value)
    if operator == "=":
        return as_text(value) == wanted
    return re.search(wanted, as_text(value)) is not None


def main():
    if sys.argv[1:] == ["--batch"]:
        return batch()
    return match(sys.argv[1:])


def batch():
    """One spec a line on stdin, FILE and its arguments separated by tabs; for each spec that
    fails: "FAIL <n>" and its diagnostics. Exit 1 if any failed."""
    failures = 0
    for number, line in enumerate(sys.stdin.read().splitlines()):
        if not line:
            continue
        arguments = line.split("\t")
        saved = sys.stderr
        sys.stderr = captured = io.StringIO()
        try:
            result = match(arguments)
        finally:
            sys.stderr = saved
        if result != 0:
            failures += 1
            print(f"FAIL {number}")
            summary = process_summary(arguments)
            if summary:
                print("SUMMARY " + summary)
            print(captured.getvalue(), end="")
    return 1 if failures else 0


def process_summary(arguments):
    """When only the process.* filters keep an event from matching: say what process it has."""
    wanted = [a for a in arguments[1:] if a.startswith("process.")]
    others = [a for a in arguments[1:] if not a.startswith("process.") and not a.startswith("--")]
    if not wanted or arguments[1:2] and arguments[1].startswith("--"):
        return None
    with open(arguments[0], encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    near = [e for e in events if all(check(e, x) for x in others)]
    if not near:
        return None
    return (f"audit: the event is there but its process is {json.dumps(near[0].get('process'))}"
            f" (expected {' '.join(wanted)}) in: {' '.join(others)}")


def match(arguments):
    arguments = list(arguments)
    path = arguments.pop(0)
    mode, count = "any", None
    if arguments and arguments[0] == "--count":
        mode, count = "count", int(arguments[1])
        arguments = arguments[2:]
    elif arguments and arguments[0] in ("--none", "--all"):
        mode = arguments.pop(0)[2:]
    events = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    events.append(json.loads(line))
    except FileNotFoundError:
        print(f"audit: {path} does not exist", file=sys.stderr)
        return 1
    if mode == "all":
        first, rest = arguments[0], arguments[1:]
        scope = [e for e in events if check(e, first)]
        bad = [e for e in scope if not all(check(e, f) for f in rest)]
        for event in bad[:3]:
            print("audit: does not match: " + json.dumps(event, sort_keys=True)[:600], file=sys.stderr)
        return 0 if scope and not bad else 1
    matching = [e for e in events if all(check(e, f) for f in arguments)]
    if mode == "none":
        for event in matching[:3]:
            print("audit: unexpected: " + json.dumps(event, sort_keys=True)[:600], file=sys.stderr)
        return 0 if not matching else 1
    if (mode == "any" and matching) or (mode == "count" and len(matching) == count):
        return 0
    scored = sorted(events, key=lambda e: -sum(check(e, f) for f in arguments))
    print(f"audit: {len(matching)} event(s) match {' '.join(arguments)}; closest:", file=sys.stderr)
    for event in scored[:2]:
        print("audit:   " + json.dumps({k: v for k, v in event.items() if k != "sandbox"},
                                       sort_keys=True)[:700], file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
