#!/usr/bin/python3
"""Looks for a secret in everything a running sandbox holds (run as root, outside the sandbox).

    key_scan.py SUPERVISOR_PID --needle-file REAL --placeholder-file PLACEHOLDER [--since EPOCH]
                [--json]

Scans every process of the sandbox: all descendants of SUPERVISOR_PID, not the supervisor itself
(it holds the real value by design). For each: /proc/PID/environ, /proc/PID/cmdline and all of
its readable memory (/proc/PID/maps + /proc/PID/mem; regions without read permission and
[vvar]/[vsyscall] are skipped, so are pages /proc/PID/pagemap says were never in memory: they read
as zeros; what cannot be read is counted). Then every file the sandbox can
see, walked through /proc/PID/root/ of one sandbox process (top-level proc, sys and dev skipped,
no symlink followed, one visit per device+inode): regular files are read in 8 MiB pieces that
overlap by the needle's length, up to FILE_CAP bytes per file.

Files whose mtime and ctime are both older than --since (the moment the test generated the real
value, minus a second) are not read: a file cannot hold a value generated after it was last
changed (ctime moves with every write and cannot be set back). Their number is reported; every
file changed since is read, so whatever the sandbox or airlock wrote during the run is scanned.

Each needle is counted in ASCII and in UTF-16LE (how JavaScript engines may keep strings). The
needles are read from files so they never appear on a command line. Output: one line per place
with hits ("hit real memory pid=... exe=... region=..."), then a summary:
    processes=N regions=N memory_bytes=N unreadable_regions=N files=N file_bytes=N old_files=N ...
    real: environ=N cmdline=N memory=N files=N total=N
    placeholder: environ=N cmdline=N memory=N files=N total=N
Exit status 0 when the scan ran (whatever it found), 2 on bad input or no sandbox process.
"""
import argparse
import json
import os
import re
import stat
import sys

CHUNK = 8 << 20
PAGE = os.sysconf("SC_PAGE_SIZE")
PRESENT_OR_SWAPPED = (1 << 63) | (1 << 62)
FILE_CAP = 1 << 30
MAPS_LINE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$")


def read_first_line(path):
    with open(path, "rb") as f:
        value = f.readline().strip()
    if len(value) < 8:
        sys.exit(f"key_scan.py: {path}: a needle shorter than 8 bytes would match by chance")
    return value


def children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        ppid = int(data[data.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(root):
    children = children_map()
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return sorted(found)


class Counter:
    def __init__(self, needles):
        # name -> list of encodings
        self.needles = {name: [value, value.decode("latin-1").encode("utf-16-le")]
                        for name, value in needles.items()}
        self.longest = max(len(e) for encodings in self.needles.values() for e in encodings)
        self.counts = {name: {} for name in needles}
        self.hits = []

    def count(self, data, place, where):
        """Counts every needle in data (bytes); returns {name: n}."""
        found = {}
        for name, encodings in self.needles.items():
            n = sum(data.count(e) for e in encodings)
            if n:
                self.counts[name][place] = self.counts[name].get(place, 0) + n
                found[name] = n
                if len(self.hits) < 400:
                    self.hits.append(f"hit {name} {place} n={n} {where}")
        return found

    def ensure(self, place):
        for name in self.counts:
            self.counts[name].setdefault(place, 0)


def scan_stream(counter, reader, place, where, limit):
    """Reads pieces with overlap: a needle across a piece boundary is counted exactly once (the
    carried tail's own hits were counted with the piece before and are subtracted)."""
    carry = b""
    total = 0
    while total < limit:
        piece = reader(min(CHUNK, limit - total))
        if not piece:
            break
        total += len(piece)
        data = carry + piece
        for name, encodings in counter.needles.items():
            n = sum(data.count(e) for e in encodings) - sum(carry.count(e) for e in encodings)
            if n:
                counter.counts[name][place] = counter.counts[name].get(place, 0) + n
                if len(counter.hits) < 400:
                    counter.hits.append(f"hit {name} {place} n={n} {where}")
        carry = data[-(counter.longest - 1):]
    return total


def scan_process(counter, pid, stats):
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = "?"
    where = f"pid={pid} exe={exe}"
    for place in ("environ", "cmdline"):
        try:
            with open(f"/proc/{pid}/{place}", "rb") as f:
                counter.count(f.read(), place, where)
        except OSError as error:
            stats["unreadable_" + place] += 1
            stats["errors"].append(f"{place} pid={pid}: {error}")
    try:
        with open(f"/proc/{pid}/maps", encoding="latin-1") as f:
            maps = f.read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
    except OSError as error:
        stats["unreadable_processes"] += 1
        stats["errors"].append(f"memory pid={pid}: {error}")
        return
    try:
        pagemap = open(f"/proc/{pid}/pagemap", "rb", buffering=0)
    except OSError:
        pagemap = None
    with mem:
        for line in maps:
            match = MAPS_LINE.match(line)
            if not match:
                continue
            start, end, perms, name = int(match[1], 16), int(match[2], 16), match[3], match[4]
            if perms[0] != "r" or name in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            stats["regions"] += 1
            for run_start, run_end in present_runs(pagemap, start, end, stats):
                try:
                    mem.seek(run_start)
                    stats["memory_bytes"] += scan_stream(counter, mem.read, "memory",
                                                         f"{where} region={line[:120]}", run_end - run_start)
                except (OSError, OverflowError, ValueError):
                    stats["unreadable_regions"] += 1
    if pagemap is not None:
        pagemap.close()


def present_runs(pagemap, start, end, stats):
    """The parts of [start, end) whose pages are in memory or swapped out (/proc/PID/pagemap bits
    63 and 62): a page never touched holds nothing, and reading it would only map the zero page
    (Bun and V8 reserve gigabytes of readable address space), so no needle can lie in or across
    one. Without pagemap: the whole range."""
    if pagemap is None:
        yield start, end
        return
    try:
        pagemap.seek((start // PAGE) * 8)
        entries = pagemap.read(((end - start) // PAGE) * 8)
    except (OSError, OverflowError, ValueError):
        yield start, end
        return
    if len(entries) != ((end - start) // PAGE) * 8:
        yield start, end
        return
    flags = memoryview(entries).cast("Q")
    run = None
    for index in range(len(flags)):
        if flags[index] & PRESENT_OR_SWAPPED:
            if run is None:
                run = index
        else:
            stats["absent_pages"] += 1
            if run is not None:
                yield start + run * PAGE, start + index * PAGE
                run = None
    if run is not None:
        yield start + run * PAGE, end


def walk_files(counter, root, since, stats):
    """Directories are opened relative to their parent's descriptor (O_NOFOLLOW), so nothing
    resolves a long path through /proc/PID/root again and no symlink is ever followed."""
    seen = set()
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        top = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the magic link itself
    except OSError as error:
        sys.exit(f"key_scan.py: cannot open {root}: {error}")
    stack = [(top, "")]
    while stack:
        fd, path = stack.pop()
        try:
            with os.scandir(fd) as iterator:
                entries = list(iterator)
        except OSError:
            stats["unreadable_dirs"] += 1
            os.close(fd)
            continue
        for entry in entries:
            if path == "" and entry.name in ("proc", "sys", "dev"):
                continue
            try:
                info = os.stat(entry.name, dir_fd=fd, follow_symlinks=False)
            except OSError:
                stats["unreadable_files"] += 1
                continue
            where = f"{path}/{entry.name}"
            if stat.S_ISDIR(info.st_mode):
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    try:
                        stack.append((os.open(entry.name, flags | os.O_DIRECTORY, dir_fd=fd), where))
                    except OSError:
                        stats["unreadable_dirs"] += 1
                continue
            if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            if since is not None and max(info.st_mtime, info.st_ctime) < since:
                stats["old_files"] += 1
                continue
            if info.st_size > FILE_CAP:
                stats["capped_files"] += 1
            try:
                file_fd = os.open(entry.name, flags | os.O_NONBLOCK, dir_fd=fd)
            except OSError:
                stats["unreadable_files"] += 1
                continue
            with os.fdopen(file_fd, "rb", buffering=0) as f:
                try:
                    stats["file_bytes"] += scan_stream(counter, f.read, "files", "file=" + where, FILE_CAP)
                    stats["files"] += 1
                except OSError:
                    stats["unreadable_files"] += 1
        os.close(fd)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("supervisor", type=int)
    parser.add_argument("--needle-file", required=True, help="the real value (first line)")
    parser.add_argument("--placeholder-file", required=True, help="the placeholder (first line)")
    parser.add_argument("--since", type=float, help="epoch seconds the real value was made")
    parser.add_argument("--json", action="store_true", help="the summary as one JSON object")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("key_scan.py: run it as root (it reads other processes' memory)")
    counter = Counter({"real": read_first_line(args.needle_file),
                       "placeholder": read_first_line(args.placeholder_file)})
    if counter.needles["real"][0] == counter.needles["placeholder"][0]:
        sys.exit("key_scan.py: the placeholder equals the real value")
    pids = descendants(args.supervisor)
    if not pids:
        print(f"key_scan.py: no process below supervisor {args.supervisor}", file=sys.stderr)
        sys.exit(2)
    stats = {"processes": 0, "regions": 0, "memory_bytes": 0, "unreadable_regions": 0,
             "unreadable_processes": 0, "absent_pages": 0, "unreadable_environ": 0, "unreadable_cmdline": 0,
             "files": 0, "file_bytes": 0, "old_files": 0, "capped_files": 0, "unreadable_files": 0,
             "unreadable_dirs": 0, "errors": []}
    exes = []
    for pid in pids:
        if os.path.exists(f"/proc/{pid}"):
            stats["processes"] += 1
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                exe = "?"
            try:  # the pid inside the sandbox's pid namespace: 1 is the sandbox's init
                with open(f"/proc/{pid}/status") as f:
                    nspid = next(l.split()[-1] for l in f if l.startswith("NSpid:"))
            except (OSError, StopIteration):
                nspid = "?"
            exes.append(f"{pid}:{exe}(pid {nspid} inside)")
            scan_process(counter, pid, stats)
    # the file view: the root of the deepest process (the sandbox's own mount namespace)
    root_pid = pids[-1]
    for pid in reversed(pids):
        if os.path.exists(f"/proc/{pid}/root/"):
            root_pid = pid
            break
    since = None if args.since is None else args.since - 1
    walk_files(counter, f"/proc/{root_pid}/root", since, stats)
    for place in ("environ", "cmdline", "memory", "files"):
        counter.ensure(place)
    for hit in counter.hits:
        print(hit)
    for error in stats.pop("errors")[:20]:
        print(f"note: {error}")
    summary = {**stats, "root_pid": root_pid, "pids": exes,
               "real": counter.counts["real"], "placeholder": counter.counts["placeholder"]}
    for name in ("real", "placeholder"):
        summary[name]["total"] = sum(summary[name].values())
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(" ".join(f"{k}={v}" for k, v in stats.items()) + f" root_pid={root_pid}")
        print("pids: " + " ".join(exes))
        for name in ("real", "placeholder"):
            print(f"{name}: " + " ".join(f"{k}={v}" for k, v in summary[name].items()))


if __name__ == "__main__":
    main()
