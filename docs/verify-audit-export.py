#!/usr/bin/env python3
"""Verifies a team's audit log export from Moth, with nothing but Python's standard library.

Usage: verify-audit-export.py audit.json [--head SEQ:MAC]

The export (`GET /export/audit.json`, OWNER or ADMIN, without filters) carries the team's chain key.
Each entry's MAC is HMAC-SHA256, under that key, over the previous entry's MAC and the entry's
fields, each preceded by its length in bytes as 8 bytes big-endian:

    previous_mac, seq, id, team_id, actor_id, event, outcome, detail, source_ip, at

(absent values are empty; numbers in decimal). The first entry (seq 1) follows the empty MAC.
Editing an entry breaks its MAC, removing one leaves a gap in `seq`. Removing the newest entries
leaves a shorter but valid chain, and an entry without a place in the chain is reported: keep the head of each export (printed below) and pass it as
`--head` next time, which checks that the newer export still holds it unchanged.

Exit status: 0 when the export verifies, 1 otherwise.
"""

import hashlib
import hmac
import json
import sys


def field(value):
    text = "" if value is None else str(value)
    data = text.encode("utf-8")
    return len(data).to_bytes(8, "big") + data


def entry_mac(key, previous, entry, team_id):
    parts = [previous, entry["seq"], entry["id"], team_id, entry.get("actor_id"), entry["event"],
             entry["outcome"], entry["detail"], entry.get("source_ip"), entry["at"]]
    return hmac.new(key, b"".join(field(p) for p in parts), hashlib.sha256).hexdigest()


def verify(export, head=None):
    if not export.get("chain_key"):
        return ["the export carries no chain key (the server is still on one key for every team)"]
    key = bytes.fromhex(export["chain_key"])
    entries = sorted((e for e in export["entries"] if e.get("seq") is not None), key=lambda e: e["seq"])
    problems, previous, macs = [], "", {}
    # Moth chains every entry as it writes it and exports only chained ones: an entry without a
    # place in the chain was added or cut out by someone else.
    for entry in export["entries"]:
        if entry.get("seq") is None or not entry.get("mac"):
            problems.append(f"entry {entry.get('id')} is outside the chain")
    for expected, entry in enumerate(entries, start=1):
        if entry["seq"] != expected:
            problems.append(f"entry {expected} is missing")
            break
        mac = entry_mac(key, previous, entry, export["team_id"])
        if not hmac.compare_digest(mac, entry["mac"] or ""):
            problems.append(f"entry {entry['seq']} was altered")
            break
        macs[entry["seq"]] = mac
        previous = mac
    if head is not None:
        seq, mac = head
        if macs.get(seq) != mac:
            problems.append(f"the earlier head {seq} is missing or changed")
    if not problems and entries:
        print(f"head: {entries[-1]['seq']}:{entries[-1]['mac']}")
    return problems


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--head"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        export = json.load(f)
    head = None
    if len(argv) == 4:
        seq, mac = argv[3].split(":", 1)
        head = (int(seq), mac)
    problems = verify(export, head)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"verified {len(export['entries'])} entries")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
