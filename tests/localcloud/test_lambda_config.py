"""Function settings moto drops, kept by the local cloud: layers by ARN, the log group."""

from __future__ import annotations

import base64
import uuid
from typing import Any

POWERTOOLS_LAYER = (
    "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"
)


def test_moto_layer_and_managed_layer_arn(cloud: Any) -> None:
    layer = cloud.lam.publish_layer_version(
        LayerName=f"layer-{uuid.uuid4().hex[:8]}",
        Content={"ZipFile": cloud.zip_of({"python/shared_helper.py": "VALUE = 'from layer'\n"})},
        CompatibleRuntimes=["python3.12"],
    )["LayerVersionArn"]
    code = """
import shared_helper
from aws_lambda_powertools import Logger
logger = Logger()

@logger.inject_lambda_context
def handler(event, context):
    logger.info("powertools works")
    return shared_helper.VALUE
"""
    name = cloud.function({"index.py": code}, Layers=[layer, POWERTOOLS_LAYER])

    result, response = cloud.invoke(name, {})

    assert "FunctionError" not in response, result
    assert result == "from layer"
    layers = cloud.lam.get_function_configuration(FunctionName=name)["Layers"]
    assert [entry["Arn"] for entry in layers] == [layer, POWERTOOLS_LAYER]
    assert '"message":"powertools works"' in base64.b64decode(response["LogResult"]).decode()


def test_custom_log_group_from_logging_config(cloud: Any) -> None:
    group = f"/custom/{uuid.uuid4().hex[:8]}"
    cloud.logs.create_log_group(logGroupName=group)
    name = cloud.function(
        {"index.py": "def handler(e, c):\n    print('into custom group')\n"},
        LoggingConfig={"LogGroup": group, "LogFormat": "Text"},
    )

    cloud.invoke(name, {})

    events = cloud.logs.filter_log_events(logGroupName=group)["events"]
    assert any(e["message"] == "into custom group" for e in events)
