#!/usr/bin/python3
"""A device on the LAN that speaks mDNS through python-zeroconf, an implementation independent
of ours (Debian's python3-zeroconf), for tests/tests/neighbours.rs.

It browses for _tusach._tcp.local. and prints every instance it resolves; with --publish it
also announces one of its own, with whatever TXT record it is given (a stranger may claim any
device id), and listens on its port, recording what each connection sends it and answering
nothing. It runs for --seconds and prints one JSON object per line on stdout:

  {"seen": {"name": ..., "addresses": [...], "port": n, "txt": {...}}}
  {"connection": {"from": "10.77.1.1", "bytes": n, "hex": "..."}}
  {"ready": true}            once its service is registered (or at once without --publish)
"""

import argparse
import json
import socket
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf

SERVICE = "_tusach._tcp.local."
print_lock = threading.Lock()


def say(obj):
    with print_lock:
        print(json.dumps(obj), flush=True)


def text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")


def on_change(zeroconf, service_type, name, state_change):
    if state_change not in (ServiceStateChange.Added, ServiceStateChange.Updated):
        return
    info = zeroconf.get_service_info(service_type, name, timeout=3000)
    if info is None:
        return
    say({"seen": {
        "name": name,
        "addresses": info.parsed_addresses(),
        "port": info.port,
        "txt": {text(k): text(v) for k, v in info.properties.items()},
    }})


def listen(address, port, seconds):
    """Accepts connections and records everything each one sends until it closes or goes
    quiet; never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(8)
    server.settimeout(0.5)
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            conn, peer = server.accept()
        except socket.timeout:
            continue
        threading.Thread(target=record, args=(conn, peer), daemon=True).start()


def record(conn, peer):
    conn.settimeout(3)
    received = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
    except (socket.timeout, OSError):
        pass
    conn.close()
    say({"connection": {"from": peer[0], "bytes": len(received), "hex": received.hex()}})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True, help="this node's IPv4 address")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--publish", metavar="INSTANCE", help="announce this instance name")
    parser.add_argument("--port", type=int, default=7654)
    parser.add_argument("--txt", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    zeroconf = Zeroconf(interfaces=[args.address], ip_version=IPVersion.V4Only)
    ServiceBrowser(zeroconf, SERVICE, handlers=[on_change])
    if args.publish:
        listener = threading.Thread(
            target=listen, args=(args.address, args.port, args.seconds), daemon=True)
        listener.start()
        properties = dict(item.split("=", 1) for item in args.txt)
        info = ServiceInfo(
            SERVICE,
            f"{args.publish}.{SERVICE}",
            addresses=[socket.inet_aton(args.address)],
            port=args.port,
            properties=properties,
            server=f"stranger-{args.publish[:8]}.local.",
        )
        zeroconf.register_service(info)
    say({"ready": True})
    time.sleep(args.seconds)
    zeroconf.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
