"""The Powertools layer ARN is right in every partition the stack admits; others are refused.

The stack is environment-agnostic: partition and region are deploy-time pseudo parameters, so
these tests evaluate the template's own expressions (Conditions, Mappings, Fn::If, Fn::Join,
the Rules section) for a given partition and region, as CloudFormation would. The publisher
accounts are those of the Powertools for AWS Lambda (Python) documentation
(docs/powertools-layer.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import botocore.session
import pytest
from aws_cdk.assertions import Template

from tests.infra.conftest import cdk_json_context, resources_of

LAYER = "layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"
PIPELINE_FUNCTIONS = ("JobStarterStartTranscription", "JobStateHandler", "JobStateSweeper")


def evaluate(expression: Any, template: Mapping[str, Any], partition: str, region: str) -> Any:
    """An intrinsic-function expression of the template, resolved for one partition and region."""

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {key: resolve(value) for key, value in node.items()}
        ((function, argument),) = node.items()
        if function == "Ref":
            return {"AWS::Partition": partition, "AWS::Region": region}[argument]
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(resolve(parts))
        if function == "Fn::If":
            name, if_true, if_false = argument
            chosen = if_true if resolve(template["Conditions"][name]) else if_false
            return resolve(chosen)
        if function == "Fn::FindInMap":
            mapping, top, second = resolve(argument)
            return template["Mappings"][mapping][top][second]
        if function == "Fn::Equals":
            left, right = resolve(argument)
            return left == right
        if function == "Fn::Contains":
            values, value = resolve(argument)
            return value in values
        if function in {"Fn::Or", "Fn::And"}:
            results = [resolve(item) for item in argument]
            return any(results) if function == "Fn::Or" else all(results)
        if function == "Fn::Not":
            return not resolve(argument[0])
        if function == "Condition":
            return resolve(template["Conditions"][argument])
        raise AssertionError(f"unexpected intrinsic {function}")

    return resolve(expression)


def layer_arns(template: Template, partition: str, region: str) -> set[str]:
    """The Powertools layer ARN of every pipeline function in that partition and region."""
    document = template.to_json()
    functions = resources_of(template, "AWS::Lambda::Function")
    return {
        evaluate(function["Properties"]["Layers"][0], document, partition, region)
        for logical_id, function in functions.items()
        if logical_id.startswith(PIPELINE_FUNCTIONS)
    }


def refusals(template: Template, partition: str, region: str) -> list[str]:
    """The AssertDescription of every template rule that fails in that partition and region."""
    document = template.to_json()
    failed = []
    for rule in document.get("Rules", {}).values():
        condition = rule.get("RuleCondition")
        if condition is not None and not evaluate(condition, document, partition, region):
            continue
        for assertion in rule["Assertions"]:
            try:
                holds = evaluate(assertion["Assert"], document, partition, region)
            except KeyError:
                continue  # a rule on a template parameter (CDK's bootstrap version check)
            if not holds:
                failed.append(assertion["AssertDescription"])
    return failed


@pytest.mark.parametrize(
    ("partition", "region", "account"),
    [
        ("aws", "us-east-1", "017000801446"),
        ("aws", "eu-central-2", "017000801446"),
        ("aws", "ap-southeast-7", "017000801446"),
        ("aws-cn", "cn-north-1", "498634801083"),
        ("aws-us-gov", "us-gov-east-1", "165087284144"),
        ("aws-us-gov", "us-gov-west-1", "165093116878"),
    ],
)
def test_the_layer_comes_from_the_account_that_publishes_it_in_that_partition_and_region(
    template: Template, partition, region, account
):
    assert layer_arns(template, partition, region) == {
        f"arn:{partition}:lambda:{region}:{account}:{LAYER}"
    }
    assert refusals(template, partition, region) == []


@pytest.mark.parametrize(
    ("partition", "region"),
    [("aws-cn", "cn-northwest-1"), ("aws-iso", "us-iso-east-1"), ("aws-eusc", "eusc-de-east-1")],
)
def test_a_region_where_the_layer_is_not_published_is_refused_before_deployment(
    template: Template, partition, region
):
    (reason,) = refusals(template, partition, region)

    assert "Powertools" in reason
    assert "cn-north-1, us-gov-east-1, us-gov-west-1" in reason


def test_cdk_json_targets_exactly_the_partitions_the_stack_admits(template: Template):
    session = botocore.session.get_session()
    admitted = {
        partition
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("lambda", partition_name=partition)
        if not refusals(template, partition, region)
    }

    assert set(cdk_json_context()["@aws-cdk/core:target-partitions"]) == admitted
