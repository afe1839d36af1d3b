"""Live Link Face UDP sender: one version-6 datagram per frame (engine.export.livelink.encode_packet).

Frame numbers (our convention, the app's as far as the captures show): timecode frames at the stream's
own rate, counted from midnight. The stream's first frame is stamped `timecode_start_s` (default: the wall
clock's time of day when streaming starts) and frame i at source time t_i gets
`start_frames + t_i * rate`: its whole part is the frame number and its fraction the sub-frame. The rate
travels as numerator/denominator (25/1, 30000/1001, ...). So a file's frames are numbered consecutively,
and a camera's by their capture times (a dropped frame leaves a gap, as on the phone).
"""
from __future__ import annotations

import datetime
import errno
import math
import socket
from fractions import Fraction

import numpy as np

from engine.errors import BadInput
from engine.export.livelink import LiveLinkPacket, encode_packet
from engine.config.live import LIVELINK_PORT

ON_FRAME_TOL = 1e-3     # a timecode this close to a whole frame is that frame (float source times)


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `HOST` (port 11111), or `[IPv6]:PORT`."""
    text = text.strip()
    host, port = text, str(LIVELINK_PORT)
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise BadInput(f"bad --livelink address {text!r}", "write an IPv6 address as [::1]:11111")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise BadInput(f"bad --livelink address {text!r}", "use HOST:PORT, e.g. 127.0.0.1:11111")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host:
        raise BadInput(f"bad --livelink address {text!r}: no host", "use HOST:PORT, e.g. 127.0.0.1:11111")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 < number < 65536:
        raise BadInput(f"bad --livelink port {port!r}", f"use a UDP port 1-65535 (Unreal's default is {LIVELINK_PORT})")
    return host, number


def seconds_since_midnight() -> float:
    now = datetime.datetime.now()
    return (now - now.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()


def frame_time(t: float, rate: Fraction, start_frames: int) -> tuple[int, float]:
    """(frame number, sub-frame) of source time `t` seconds."""
    position = start_frames + t * float(rate)
    nearest = round(position)
    if abs(position - nearest) < ON_FRAME_TOL:
        return int(nearest), 0.0
    whole = math.floor(position)
    return int(whole), float(position - whole)


class LiveLinkSender:
    """Sends the 61 values of each frame to Unreal's Live Link Face source over UDP."""

    def __init__(self, address: str, subject: str, device_id: str | None, rate: Fraction,
                 timecode_start_s: float | None = None):
        host, port = parse_address(address)
        try:
            # IPv4 first: Unreal's Live Link Face source listens on 0.0.0.0, and "localhost" may resolve
            # to ::1 first.
            found = sorted(socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM),
                           key=lambda info: info[0] != socket.AF_INET)
            family, kind, proto, _, target = found[0]
        except socket.gaierror as exc:
            raise BadInput(f"cannot resolve the Live Link host {host!r}: {exc.strerror}",
                           "give the IP address of the machine running Unreal") from exc
        self.target = target
        self.socket = socket.socket(family, kind, proto)
        self.subject = subject
        self.device_id = device_id or f"FaceRetarget-{socket.gethostname()}"
        self.rate = rate
        start = seconds_since_midnight() if timecode_start_s is None else timecode_start_s
        self.start_frames = int(round(start * float(rate)))
        self.sent = 0

    def packet(self, t: float, values: np.ndarray) -> LiveLinkPacket:
        frame, subframe = frame_time(t, self.rate, self.start_frames)
        return LiveLinkPacket(self.device_id, self.subject, frame, subframe, self.rate.numerator,
                              self.rate.denominator, np.asarray(values, np.float32))

    def send(self, t: float, values: np.ndarray) -> LiveLinkPacket:
        packet = self.packet(t, values)
        try:
            self.socket.sendto(encode_packet(packet), self.target)
        except OSError as exc:   # e.g. no route; UDP to a closed port on loopback may also report here
            if exc.errno != errno.ECONNREFUSED:   # from an earlier datagram: nobody listens yet
                raise BadInput(f"cannot send to {self.target}: {exc.strerror}",
                               "check the --livelink address and the network") from exc
        self.sent += 1
        return packet

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> "LiveLinkSender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
