"""A Live Link UDP listener on the loopback: collects datagrams with their arrival times.

For checking a stream without Unreal (tests, bench/live.py): point `live --livelink` at its port."""
from __future__ import annotations

import socket
import threading
import time

from engine.export.livelink import LiveLinkPacket, decode_packet

LINGER_S = 0.3      # after the sender stops, datagrams still in flight are waited for this long


class LoopbackReceiver:
    """Listens on 127.0.0.1:<free port> on a background thread until `stop()`."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.datagrams: list[tuple[float, bytes]] = []      # (time.perf_counter() at arrival, datagram)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="livelink-receiver", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.socket.recv(65536)
            except socket.timeout:
                continue
            self.datagrams.append((time.perf_counter(), data))

    def stop(self) -> None:
        time.sleep(LINGER_S)
        self._stop.set()
        self._thread.join()
        self.socket.close()

    def packets(self) -> list[LiveLinkPacket]:
        return [decode_packet(data) for _, data in self.datagrams]
