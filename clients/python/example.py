"""An example client in Python over gRPC (grpcio, HTTP/2 without TLS): signs up, creates a task,
lists the account's tasks and gets the new one back, then prints what the server answered as one
JSON object. Generate the packages under gen first (buf generate --template
clients/buf.gen.python.yaml, from the root).

    python example.py --target localhost:8080 --email me@example.com --password 'a long secret'
"""

import argparse
import json
import sys
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict

sys.path.insert(0, str(Path(__file__).parent / "gen"))

from taskmesh.auth.v1 import auth_service_pb2, auth_service_pb2_grpc  # noqa: E402
from taskmesh.tasks.v1 import task_pb2, task_service_pb2, task_service_pb2_grpc  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="localhost:8080", help="host:port of the gateway")
    parser.add_argument("--email", required=True, help="e-mail address of the new account")
    parser.add_argument("--password", required=True, help="its password (8 characters or more)")
    parser.add_argument("--title", default="Written in Python", help="title of the task to create")
    args = parser.parse_args()

    with grpc.insecure_channel(args.target) as channel:
        auth = auth_service_pb2_grpc.AuthServiceStub(channel)
        signed_up = auth.SignUp(auth_service_pb2.SignUpRequest(email=args.email, password=args.password))
        # Every call after sign-up carries the access token (an API token works the same way).
        bearer = [("authorization", f"Bearer {signed_up.access_token}")]
        tasks = task_service_pb2_grpc.TaskServiceStub(channel)

        created = tasks.CreateTask(
            task_service_pb2.CreateTaskRequest(title=args.title, priority=task_pb2.PRIORITY_HIGH, tags=["python"]),
            metadata=bearer,
        )
        listed = tasks.ListTasks(task_service_pb2.ListTasksRequest(), metadata=bearer)
        got = tasks.GetTask(task_service_pb2.GetTaskRequest(id=created.task.id), metadata=bearer)

    json.dump(
        {
            "user": MessageToDict(signed_up.user),
            "created": MessageToDict(created.task),
            "listed": [MessageToDict(task) for task in listed.tasks],
            "got": MessageToDict(got.task),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
