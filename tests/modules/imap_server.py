"""A minimal IMAP4rev1 server for the email tests, on an ephemeral loopback port.

No IMAP server could be installed offline for the tests (PyPI has none that runs as a server;
Debian's Dovecot needs a system service), so this one speaks just what a mail client's watch
and "save after sending" use, over a real socket to Python's ``imaplib``: CAPABILITY, LOGIN,
LIST, SELECT/EXAMINE (with UIDVALIDITY and UIDNEXT), UID SEARCH (ALL, SEEN, UNSEEN, UID
ranges, FROM, TO, SUBJECT, TEXT, BEFORE), UID FETCH (BODY.PEEK[] / BODY[]), UID STORE +FLAGS,
APPEND (with a literal), NOOP and LOGOUT. Tests only; never used by the product.
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.utils import parsedate_to_datetime

_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|\(([^)]*)\)|\{(\d+)\}$|(\S+)')


@dataclass
class StoredMail:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class Mailbox:
    validity: int = 4242
    next_uid: int = 1
    mails: list[StoredMail] = field(default_factory=list)

    def add(self, raw: bytes, flags: set[str] | None = None) -> int:
        uid = self.next_uid
        self.mails.append(StoredMail(uid, raw, set(flags or ())))
        self.next_uid += 1
        return uid


@dataclass
class ImapState:
    user: str
    password: str
    boxes: dict[str, Mailbox] = field(
        default_factory=lambda: {"INBOX": Mailbox(), "Sent": Mailbox()}
    )
    commands: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _tokens(data: bytes) -> list[bytes]:
    """Quoted strings (unescaped), parenthesised lists (their inside) and atoms."""
    found = []
    for match in _TOKEN.finditer(data):
        quoted, group, literal, atom = match.groups()
        if quoted is not None:
            found.append(re.sub(rb"\\(.)", rb"\1", quoted))
        elif literal is not None:
            found.append(b"{" + literal + b"}")
        else:
            found.append(group if group is not None else atom)
    return found


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def send(self, line: str | bytes) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self) -> None:
        self.selected: Mailbox | None = None
        self.logged_in = False
        self.send("* OK IMAP4rev1 test server ready")
        while line := self.rfile.readline():
            line = line.rstrip(b"\r\n")
            literal = re.search(rb"\{(\d+)\}$", line)
            payload = b""
            if literal:
                self.send("+ go ahead")
                payload = self.rfile.read(int(literal.group(1)))
                self.rfile.readline()
            tag, _, rest = line.partition(b" ")
            command, _, args = rest.partition(b" ")
            state = self.server.state
            with state.lock:
                state.commands.append(command.decode().upper())
                if not self.dispatch(tag.decode(), command.decode().upper(), args, payload):
                    return

    def dispatch(self, tag: str, command: str, args: bytes, payload: bytes) -> bool:
        state = self.server.state
        if command == "LOGOUT":
            self.send("* BYE see you")
            self.send(f"{tag} OK LOGOUT completed")
            return False
        if command == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
        elif command == "NOOP":
            pass
        elif command == "LOGIN":
            user, password = (t.decode() for t in _tokens(args)[:2])
            if (user, password) != (state.user, state.password):
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
                return True
            self.logged_in = True
        elif not self.logged_in:
            self.send(f"{tag} BAD log in first")
            return True
        elif command == "LIST":
            for name in state.boxes:
                self.send(f'* LIST () "/" "{name}"')
        elif command in ("SELECT", "EXAMINE"):
            return self.select(tag, command, _tokens(args)[0].decode())
        elif command == "APPEND":
            name = _tokens(args)[0].decode()
            if name not in state.boxes:
                self.send(f"{tag} NO [TRYCREATE] no such mailbox")
                return True
            flags = set(re.findall(r"\\\w+", args.decode()))
            state.boxes[name].add(payload, flags)
        elif command == "UID":
            return self.uid_command(tag, args)
        else:
            self.send(f"{tag} BAD unknown command {command}")
            return True
        self.send(f"{tag} OK {command} completed")
        return True

    def select(self, tag: str, command: str, name: str) -> bool:
        box = self.server.state.boxes.get(name)
        if box is None:
            self.send(f"{tag} NO no such mailbox")
            return True
        self.selected = box
        self.send(f"* {len(box.mails)} EXISTS")
        self.send(f"* OK [UIDVALIDITY {box.validity}] UIDs valid")
        self.send(f"* OK [UIDNEXT {box.next_uid}] predicted next UID")
        mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
        self.send(f"{tag} OK [{mode}] {command} completed")
        return True

    def uid_command(self, tag: str, args: bytes) -> bool:
        box = self.selected
        if box is None:
            self.send(f"{tag} BAD select a mailbox first")
            return True
        command, _, rest = args.partition(b" ")
        command_name = command.decode().upper()
        if command_name == "SEARCH":
            found = [mail.uid for mail in box.mails if _matches(mail, _tokens(rest))]
            self.send("* SEARCH" + "".join(f" {uid}" for uid in found))
        elif command_name == "FETCH":
            uid_set, _, _ = rest.partition(b" ")
            for number, mail in enumerate(box.mails, start=1):
                if _in_set(mail.uid, uid_set.decode(), box) and b"BODY" in rest.upper():
                    head = f"* {number} FETCH (UID {mail.uid} BODY[] {{{len(mail.raw)}}}"
                    self.wfile.write(head.encode() + b"\r\n" + mail.raw + b")\r\n")
                    if b"PEEK" not in rest.upper():
                        mail.flags.add("\\Seen")
        elif command_name == "STORE":
            uid_set, _, change = rest.partition(b" ")
            flags = set(re.findall(r"\\\w+", change.decode()))
            for number, mail in enumerate(box.mails, start=1):
                if _in_set(mail.uid, uid_set.decode(), box):
                    mail.flags |= flags
                    self.send(f"* {number} FETCH (UID {mail.uid} FLAGS ({' '.join(mail.flags)}))")
        else:
            self.send(f"{tag} BAD unknown UID command")
            return True
        self.send(f"{tag} OK UID {command_name} completed")
        return True


def _in_set(uid: int, uid_set: str, box: Mailbox) -> bool:
    for part in uid_set.split(","):
        low, _, high = part.partition(":")
        top = box.next_uid if high == "*" else int(high or low)
        start = int(low)
        if min(start, top) <= uid <= max(start, top):
            return True
    return False


def _matches(mail: StoredMail, terms: list[bytes]) -> bool:
    message = message_from_bytes(mail.raw)
    position = 0
    words = [t.decode() for t in terms]
    while position < len(words):
        key = words[position].upper()
        if key == "ALL":
            ok = True
        elif key == "SEEN":
            ok = "\\Seen" in mail.flags
        elif key == "UNSEEN":
            ok = "\\Seen" not in mail.flags
        elif key in ("UID", "FROM", "TO", "SUBJECT", "TEXT", "BEFORE"):
            position += 1
            ok = _match_key(key, words[position], mail, message)
        else:
            raise ValueError(f"search key {key} is not supported by the test server")
        if not ok:
            return False
        position += 1
    return True


def _match_key(key: str, value: str, mail: StoredMail, message) -> bool:
    if key == "UID":
        low, _, high = value.partition(":")
        return mail.uid >= int(low) and (high == "*" or mail.uid <= int(high or low))
    if key == "BEFORE":
        sent = parsedate_to_datetime(message["Date"]).date()
        return sent < datetime.strptime(value, "%d-%b-%Y").date()
    if key == "TEXT":
        return value.lower() in mail.raw.decode(errors="replace").lower()
    header = {"FROM": "From", "TO": "To", "SUBJECT": "Subject"}[key]
    return value.lower() in str(message[header] or "").lower()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: ImapState


def start_imap_server(user: str, password: str) -> tuple[_Server, ImapState]:
    """A running server on 127.0.0.1 (``server.server_address[1]`` is its port)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = ImapState(user, password)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.state
