"""CPU per produced and per consumed message of the Kafka clients, against a fresh embedded tansu broker.

usage: python tools/kafka_client_cost.py [--n 100000] [--clients confluent,confluent-zstd]
Generates N synthetic transactions (~540 bytes, keyed by debtor account) from a small seeded world and, per
client, on its own 6-partition topic: produces them in bursts of 2,000 waiting for every ack (as the worker's
emitter does), then consumes them as a consumer-group member in batches of 500, building the worker's
InboundRecord for each. CPU is the client process's user+system time (all its threads, librdkafka's
included) divided by N; the broker's CPU and resident memory are read from its process. The kafka-python
figures of docs/decisions/0006 came from the same procedure with kafka-python 3.0.12 configured as riskmesh
configured it before (KafkaProducer send + flush + future.get per burst, KafkaConsumer.poll per batch).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from riskmesh.orchestrator.demo import synthetic_messages
from riskmesh.orchestrator.infra import find_tansu
from riskmesh.orchestrator.procs import free_port, port_open, wait_until

BURST = 2000
BATCH = 500


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def broker_cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def create_topic(bootstrap: str, topic: str) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, 6, 1)]).values():
        f.result()


def produce_confluent(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]], compression: str) -> None:
    from riskmesh.orchestrator.kafka_io import make_producer

    producer = make_producer(bootstrap, compression=compression)
    for i in range(0, len(messages), BURST):
        producer.produce_all([(topic, k, v) for k, v in messages[i:i + BURST]])
    producer.close()


def consume_confluent(bootstrap: str, topic: str, n: int) -> float:
    """Consumes n records with the worker's BatchConsumer; returns the CPU seconds from the first record to the last."""
    from riskmesh.contracts.settings import Settings
    from riskmesh.orchestrator.kafka_io import BatchConsumer

    settings = Settings(topic_transactions=topic, consumer_group=f"cost-{topic}", batch_max_size=BATCH,
                        batch_max_wait_ms=50, session_timeout_ms=2000, heartbeat_interval_ms=300)
    consumer = BatchConsumer(bootstrap, settings, client_id="cost")
    got, started = 0, None
    while got < n:
        batch = consumer.poll_batch()
        if batch and started is None:
            started = cpu_s()
        got += len(batch)
    used = cpu_s() - (started or 0.0)
    consumer.close()
    return used


CLIENTS = {
    "confluent": (produce_confluent, consume_confluent, "none"),
    "confluent-zstd": (produce_confluent, consume_confluent, "zstd"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--clients", default="confluent,confluent-zstd")
    args = parser.parse_args()
    from riskmesh.orchestrator.synth import World

    with tempfile.TemporaryDirectory() as tmp:
        World.generate(seed=7, customers=300).write(Path(tmp))
        messages = synthetic_messages(tmp, args.n, 0, 1, "C")
    payload = sum(len(v) for _, v in messages) / len(messages)
    results = []
    for name in args.clients.split(","):
        produce, consume, compression = CLIENTS[name]
        port = free_port()
        broker = subprocess.Popen([find_tansu(), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
                                   "--advertised-listener-url", f"tcp://127.0.0.1:{port}",
                                   "--storage-engine", "memory://tansu/"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda port=port: port_open("127.0.0.1", port), 20, "tansu")  # type: ignore[misc]
            bootstrap = f"127.0.0.1:{port}"
            topic = f"cost-{name}"
            create_topic(bootstrap, topic)
            tansu = psutil.Process(broker.pid)
            rss_before = tansu.memory_info().rss
            b0, c0, w0 = broker_cpu_s(tansu), cpu_s(), time.monotonic()
            produce(bootstrap, topic, messages, compression)
            produce_cpu, produce_wall = cpu_s() - c0, time.monotonic() - w0
            b1 = broker_cpu_s(tansu)
            rss_stored = tansu.memory_info().rss - rss_before
            consume_cpu = consume(bootstrap, topic, args.n)
            b2 = broker_cpu_s(tansu)
            results.append({
                "client": name, "n": args.n, "value_bytes": round(payload),
                "produce_cpu_us_per_msg": round(produce_cpu / args.n * 1e6, 2),
                "produce_msgs_per_s": round(args.n / produce_wall),
                "consume_cpu_us_per_msg": round(consume_cpu / args.n * 1e6, 2),
                "broker_cpu_us_per_msg_produced": round((b1 - b0) / args.n * 1e6, 2),
                "broker_cpu_us_per_msg_consumed": round((b2 - b1) / args.n * 1e6, 2),
                "broker_rss_mb_for_stored": round(rss_stored / 2**20, 1),
            })
            print(json.dumps(results[-1]), flush=True)
        finally:
            broker.terminate()
            broker.wait(10)


if __name__ == "__main__":
    main()
