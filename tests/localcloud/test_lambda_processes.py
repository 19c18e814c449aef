"""The local Lambda executor: functions deployed to moto really run, as subprocesses."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path
from typing import Any

PY_ECHO = """
import json, os
import boto3

def handler(event, context):
    print("event:", json.dumps(event))
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key="py.txt", Body=b"from python")
    return {
        "event": event,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "log_group": context.log_group_name,
        "remaining": context.get_remaining_time_in_millis(),
        "endpoint": os.environ["AWS_ENDPOINT_URL"],
        "region": os.environ["AWS_REGION"],
        "handler": os.environ["_HANDLER"],
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "cwd": os.getcwd(),
    }
"""


def test_python_function_runs_with_context_environment_and_endpoint(cloud: Any) -> None:
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    cloud.s3.create_bucket(Bucket=bucket)
    name = cloud.function(
        {"index.py": PY_ECHO}, Environment={"Variables": {"BUCKET": bucket}}, MemorySize=256
    )

    result, response = cloud.invoke(name, {"hello": "wörld"})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert result["event"] == {"hello": "wörld"}
    assert result["function_name"] == name
    assert result["memory"] == 256
    assert result["arn"].endswith(f":function:{name}")
    assert result["log_group"] == f"/aws/lambda/{name}"
    assert 0 < result["remaining"] <= 10_000
    assert result["endpoint"] == cloud.endpoint
    assert result["region"] == "us-east-1"
    assert result["handler"] == "index.handler"
    assert result["cwd"] == result["task_root"]
    # The function called back into the local cloud while its own Invoke was being served.
    body = cloud.s3.get_object(Bucket=bucket, Key="py.txt")["Body"].read()
    assert body == b"from python"
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {result['request_id']}" in tail
    assert 'event: {"hello": "w\\u00f6rld"}' in tail

    messages = cloud.wait_for(
        lambda: [
            e["message"]
            for e in cloud.logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        ]
    )
    assert any(m.startswith("event:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") for m in messages)


NODE_SDK = """
const { S3Client, PutObjectCommand, GetObjectCommand } = require("@aws-sdk/client-s3");
exports.handler = async (event, context) => {
  console.log("node got", JSON.stringify(event));
  const s3 = new S3Client({});
  const bucket = process.env.BUCKET;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "node.txt", Body: "from node" }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "node.txt" }));
  return {
    body: await got.Body.transformToString(),
    name: context.functionName,
    requestId: context.awsRequestId,
    remaining: context.getRemainingTimeInMillis(),
    event,
  };
};
"""

NODE_CALLBACK_HTTPS = """
const https = require("https");
const url = require("url");
// The same way CDK's custom-resource framework answers CloudFormation's ResponseURL.
exports.handler = function (event, context, callback) {
  const parsed = url.parse(event.ResponseURL);
  const body = JSON.stringify({ Status: "SUCCESS", RequestId: context.awsRequestId });
  const req = https.request(
    { hostname: parsed.hostname, path: parsed.path, method: "PUT",
      headers: { "content-type": "", "content-length": Buffer.byteLength(body) } },
    (res) => { res.resume(); res.on("end", () => callback(null, { status: res.statusCode })); }
  );
  req.on("error", (err) => callback(err));
  req.write(body);
  req.end();
};
"""


def test_node_function_uses_the_aws_sdk_against_the_local_endpoint(cloud: Any) -> None:
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    cloud.s3.create_bucket(Bucket=bucket)
    name = cloud.function(
        {"index.js": NODE_SDK}, runtime="nodejs20.x", Environment={"Variables": {"BUCKET": bucket}}
    )

    result, response = cloud.invoke(name, {"n": 1})

    assert "FunctionError" not in response, result
    assert result["body"] == "from node"
    assert result["name"] == name
    assert result["event"] == {"n": 1}
    assert 0 < result["remaining"] <= 10_000
    assert "node got" in base64.b64decode(response["LogResult"]).decode()


def test_node_callback_handler_https_answer_to_localhost_reaches_the_endpoint(cloud: Any) -> None:
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    cloud.s3.create_bucket(Bucket=bucket)
    name = cloud.function({"index.js": NODE_CALLBACK_HTTPS}, runtime="nodejs20.x")
    # An https URL without port, as CloudFormation would give; the answer lands in S3 here.
    response_url = f"https://localhost/{bucket}/answer.json"

    result, response = cloud.invoke(name, {"ResponseURL": response_url})

    assert "FunctionError" not in response, result
    assert result == {"status": 200}
    answer = json.loads(cloud.s3.get_object(Bucket=bucket, Key="answer.json")["Body"].read())
    assert answer["Status"] == "SUCCESS"


def test_python_error_has_lambda_error_shape(cloud: Any) -> None:
    code = "def handler(event, context):\n    raise ValueError('bad input: ' + event['x'])\n"
    name = cloud.function({"index.py": code})

    result, response = cloud.invoke(name, {"x": "42"})

    assert response["FunctionError"] == "Unhandled"
    assert result["errorType"] == "ValueError"
    assert result["errorMessage"] == "bad input: 42"
    assert isinstance(result["stackTrace"], list)
    assert result["requestId"]


def test_node_error_and_missing_module(cloud: Any) -> None:
    failing = cloud.function(
        {"index.js": "exports.handler = async () => { throw new TypeError('nope'); };"},
        runtime="nodejs20.x",
    )
    result, response = cloud.invoke(failing, {})
    assert response["FunctionError"] == "Unhandled"
    assert result["errorType"] == "TypeError"
    assert result["errorMessage"] == "nope"

    missing = cloud.function({"other.py": "x = 1\n"})
    result, response = cloud.invoke(missing, {})
    assert response["FunctionError"] == "Unhandled"
    assert result["errorType"] == "Runtime.ImportModuleError"


def test_timeout_kills_the_process_tree(cloud: Any, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    code = f"""
import subprocess, time
def handler(event, context):
    child = subprocess.Popen(["sleep", "30"])
    open({str(pid_file)!r}, "w").write(str(child.pid))
    time.sleep(30)
"""
    name = cloud.function({"index.py": code}, Timeout=1)

    result, response = cloud.invoke(name, {})

    # Without the runner's timeout the handler would return normally after 30 s.
    assert response["FunctionError"] == "Unhandled"
    assert result["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result["errorMessage"]
    child = int(pid_file.read_text())

    def child_gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        # A killed child may linger as a zombie until reaped by init; that is not running.
        status = Path(f"/proc/{child}/status")
        return status.exists() and "zombie" in status.read_text()

    cloud.wait_for(child_gone, timeout=5)


def test_node_timeout_and_init_outside_the_timeout(cloud: Any) -> None:
    hanging = cloud.function(
        {"index.js": "exports.handler = () => new Promise(() => setInterval(() => {}, 1000));"},
        runtime="nodejs20.x",
        Timeout=1,
    )
    result, response = cloud.invoke(hanging, {})
    assert response["FunctionError"] == "Unhandled"
    assert result["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in base64.b64decode(response["LogResult"]).decode()

    # Module loading is Lambda's init phase: it does not count against the timeout.
    slow_init = cloud.function(
        {"index.py": "import time\ntime.sleep(1.2)\n\ndef handler(e, c):\n    return 'ok'\n"},
        Timeout=1,
    )
    result, response = cloud.invoke(slow_init, {})
    assert "FunctionError" not in response, result
    assert result == "ok"


def test_python_virtual_hosted_s3_resolves_bucket_subdomains(cloud: Any) -> None:
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    cloud.s3.create_bucket(Bucket=bucket)
    code = """
import os, boto3
from botocore.config import Config

def handler(event, context):
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "virtual"}))
    s3.put_object(Bucket=os.environ["BUCKET"], Key="virtual.txt", Body=b"v")
    return s3.meta.endpoint_url
"""
    name = cloud.function({"index.py": code}, Environment={"Variables": {"BUCKET": bucket}})

    result, response = cloud.invoke(name, {})

    assert "FunctionError" not in response, result
    assert cloud.s3.get_object(Bucket=bucket, Key="virtual.txt")["Body"].read() == b"v"


def test_node_inline_code_packed_as_index_py_by_moto(cloud: Any) -> None:
    # moto's CloudFormation packs inline ZipFile code as index.py, even for Node.js.
    name = cloud.function(
        {"index.py": "exports.handler = async (event) => ({ inline: event.x });"},
        runtime="nodejs20.x",
    )

    result, response = cloud.invoke(name, {"x": 5})

    assert "FunctionError" not in response, result
    assert result == {"inline": 5}


# A handler that counts its invocations in module state and names its process.
PY_COUNTER = """
import os, time
INVOCATIONS = 0

def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    print("invocation", INVOCATIONS, "of", context.aws_request_id)
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"invocations": INVOCATIONS, "pid": os.getpid(), "colour": os.environ.get("COLOUR")}
"""


def test_python_invocations_reuse_a_warm_environment(cloud: Any) -> None:
    name = cloud.function({"index.py": PY_COUNTER})

    first, _ = cloud.invoke(name, {})
    second, _ = cloud.invoke(name, {})

    assert (first["invocations"], second["invocations"]) == (1, 2)
    assert first["pid"] == second["pid"]


def test_a_function_error_keeps_the_environment(cloud: Any) -> None:
    name = cloud.function({"index.py": PY_COUNTER})

    _, failed = cloud.invoke(name, {"fail": True})
    after, _ = cloud.invoke(name, {})

    assert failed["FunctionError"] == "Unhandled"
    assert after["invocations"] == 2


def test_a_configuration_change_starts_a_new_environment(cloud: Any) -> None:
    name = cloud.function({"index.py": PY_COUNTER}, Environment={"Variables": {"COLOUR": "red"}})
    before, _ = cloud.invoke(name, {})

    cloud.lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"COLOUR": "blue"}}
    )
    after, _ = cloud.invoke(name, {})

    assert before["colour"] == "red"
    assert (after["colour"], after["invocations"]) == ("blue", 1)


def test_a_timeout_discards_the_environment(cloud: Any) -> None:
    name = cloud.function({"index.py": PY_COUNTER}, Timeout=1)
    cloud.invoke(name, {})

    timed_out, _ = cloud.invoke(name, {"sleep": 5})
    after, _ = cloud.invoke(name, {})

    assert timed_out["errorType"] == "Sandbox.Timedout"
    assert after["invocations"] == 1  # init ran again, in a new environment


def test_warm_invocations_log_to_their_environments_stream(cloud: Any) -> None:
    name = cloud.function({"index.py": PY_COUNTER})
    cloud.invoke(name, {})
    cloud.invoke(name, {})

    streams = cloud.logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    events = cloud.logs.get_log_events(
        logGroupName=f"/aws/lambda/{name}", logStreamName=streams[0]["logStreamName"]
    )["events"]
    messages = [e["message"] for e in events]

    assert len(streams) == 1
    assert sum(m.startswith("START RequestId:") for m in messages) == 2
    assert [m.split()[1] for m in messages if m.startswith("invocation")] == ["1", "2"]
