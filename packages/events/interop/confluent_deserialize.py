"""Reads what @taskmesh/events produced to Kafka with Confluent's own ProtobufDeserializer.

Generates Python classes from the repo's .proto files with grpcio-tools, consumes the given
topics from the beginning, and prints one JSON line per message: the decoded message, the schema
id from the frame and what the schema registry says about that id.

  python confluent_deserialize.py --bootstrap HOST:PORT --registry URL --proto-root DIR... \
      --topic TOPIC=MessageName... --count N
"""

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
import uuid

import grpc_tools
from grpc_tools import protoc
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf.json_format import MessageToDict

PROTO_FILES = ["buf/validate/validate.proto", "taskmesh/tasks/v1/task.proto", "taskmesh/events/v1/events.proto"]


def generate_classes(roots):
    out = tempfile.mkdtemp(prefix="taskmesh-py-")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    args = ["protoc", *[f"-I{r}" for r in roots], f"-I{well_known}", f"--python_out={out}", *PROTO_FILES]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    return importlib.import_module("taskmesh.events.v1.events_pb2")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--proto-root", action="append", required=True)
    parser.add_argument("--topic", action="append", required=True, help="TOPIC=MessageName")
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()

    events_pb2 = generate_classes(args.proto_root)
    topics = dict(t.split("=", 1) for t in args.topic)
    deserializers = {
        topic: ProtobufDeserializer(getattr(events_pb2, name), {"use.deprecated.format": False}) for topic, name in topics.items()
    }
    registry = SchemaRegistryClient({"url": args.registry})
    consumer = Consumer(
        {"bootstrap.servers": args.bootstrap, "group.id": f"python-interop-{uuid.uuid4()}", "auto.offset.reset": "earliest", "enable.auto.commit": False}
    )
    consumer.subscribe(list(topics))
    seen = 0
    deadline = time.time() + 60
    try:
        while seen < args.count and time.time() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                sys.exit(f"consume error: {msg.error()}")
            value = msg.value()
            message = deserializers[msg.topic()](value, SerializationContext(msg.topic(), MessageField.VALUE))
            schema_id = int.from_bytes(value[1:5], "big")
            schema = registry.get_schema(schema_id)
            print(
                json.dumps(
                    {
                        "topic": msg.topic(),
                        "key": msg.key().decode(),
                        "type": message.DESCRIPTOR.full_name,
                        "schema_id": schema_id,
                        "schema_type": schema.schema_type,
                        "references": sorted(r.name for r in schema.references),
                        "message": MessageToDict(message, preserving_proto_field_name=True),
                    }
                ),
                flush=True,
            )
            seen += 1
    finally:
        consumer.close()
    if seen < args.count:
        sys.exit(f"only {seen} of {args.count} messages arrived")


if __name__ == "__main__":
    main()
