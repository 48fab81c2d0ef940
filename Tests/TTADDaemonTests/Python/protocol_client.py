#!/usr/bin/env python3
"""A ttad client written from docs/protocol.md alone (pyzmq + the standard library).

Sends N embeddings over PUSH (one of them with a NaN, which the contract says is rejected with
reason `non_finite`), subscribes to `pred/<stream>` and `error`, and checks every field the
contract promises. Exits 0 when everything matched, 1 otherwise.

usage: protocol_client.py INGEST_ENDPOINT OUTPUT_ENDPOINT DIM CLASSES
"""
import json
import math
import struct
import sys
import time

import zmq

ingest, output, dim, classes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
STREAM = "pycam"
N = 12
BAD_SEQ = 5

ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
sub.connect(output)
pred_topic = f"pred/{STREAM}".encode()
sub.setsockopt(zmq.SUBSCRIBE, pred_topic)
sub.setsockopt(zmq.SUBSCRIBE, b"error")
push = ctx.socket(zmq.PUSH)
push.setsockopt(zmq.SNDTIMEO, 5000)
push.connect(ingest)


def embedding(cls):
    v = [0.05] * dim
    v[cls] = 1.0
    return v


def send(seq, vec, label):
    header = {"v": 1, "id": f"{STREAM}-{seq:04d}", "stream": STREAM, "seq": seq, "ts": time.time(),
              "encoding": "f32-embedding", "shape": [len(vec)], "label": label}
    push.send_multipart([STREAM.encode(), json.dumps(header).encode(), struct.pack(f"<{len(vec)}f", *vec)])


# Slow joiner: the subscription needs a moment to reach the daemon's PUB socket. Probe on another
# stream until something comes back on `pred/`.
sub.setsockopt(zmq.SUBSCRIBE, b"pred/pyprobe")
deadline = time.time() + 10
probe = 0
while time.time() < deadline:
    header = {"v": 1, "id": f"probe-{probe}", "stream": "pyprobe", "seq": probe, "encoding": "f32-embedding", "shape": [dim]}
    push.send_multipart([b"pyprobe", json.dumps(header).encode(), struct.pack(f"<{dim}f", *embedding(0))])
    probe += 1
    if sub.poll(200):
        topic, _ = sub.recv_multipart()
        if topic == b"pred/pyprobe":
            break
else:
    print("no answer from the daemon", file=sys.stderr)
    sys.exit(1)

for seq in range(N):
    vec = embedding(seq % classes)
    if seq == BAD_SEQ:
        vec[1] = float("nan")
    send(seq, vec, seq % classes)

preds, errors = {}, {}
deadline = time.time() + 10
while len(preds) + len(errors) < N and time.time() < deadline:
    if not sub.poll(200):
        continue
    topic, body = sub.recv_multipart()
    msg = json.loads(body)
    assert msg["v"] == 1, msg
    if topic == pred_topic:
        preds[msg["seq"]] = msg
    elif topic == b"error" and msg.get("stream") == STREAM:
        errors[msg["seq"]] = msg

failures = []
def check(cond, what):
    if not cond:
        failures.append(what)

check(sorted(preds) == [s for s in range(N) if s != BAD_SEQ], f"predictions for {sorted(preds)}")
check(list(errors) == [BAD_SEQ], f"errors for {list(errors)}")
if BAD_SEQ in errors:
    e = errors[BAD_SEQ]
    check(e["reason"] == "non_finite", f"reason {e['reason']}")
    check(e["id"] == f"{STREAM}-{BAD_SEQ:04d}", f"error id {e.get('id')}")
    check(isinstance(e["detail"], str) and e["detail"], "error detail")
    check(isinstance(e["ts_s"], (int, float)), "error ts_s")
for seq, p in preds.items():
    check(p["id"] == f"{STREAM}-{seq:04d}" and p["stream"] == STREAM, f"ids of {seq}")
    check(isinstance(p["ts"], float), f"ts echoed for {seq}")
    top = p["top"]
    check(len(top) >= 1 and all(set(t) >= {"class", "index", "p"} for t in top), f"top of {seq}")
    check(all(top[i]["p"] >= top[i + 1]["p"] for i in range(len(top) - 1)), f"top sorted for {seq}")
    check(top[0]["index"] == seq % classes, f"class of {seq}: {top[0]}")
    check(p["label"] == seq % classes, f"label echo of {seq}")
    check(isinstance(p["entropy"], float) and 0 <= p["entropy"] <= math.log(classes) + 1e-6, f"entropy of {seq}")
    check(isinstance(p["outlier"], bool) and isinstance(p["outlier_score"], (int, float)), f"outlier fields of {seq}")
    check(isinstance(p["prompt_version"], int), f"prompt_version of {seq}")
    check(isinstance(p["latency_s"], (int, float)) and p["latency_s"] >= 0, f"latency of {seq}")

push.close(linger=0)
sub.close(linger=0)
ctx.term()
if failures:
    print("FAILED: " + "; ".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(preds)} predictions, {len(errors)} error(s)")
