"""What a source subscribes to follows ``[bus] environment``; a binding of another environment
is refused in one line. (What arrives is tested against the real bus in
tests/integration/test_watch_environment.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hubs.errors import ConfigError
from hubs.understand.topics import belongs_to, environment_of, routing_keys
from hubsgen.cli import cli
from hubsgen.watch.sources.amqp import AmqpSource, queue_name

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"  # never connected to: nothing here declares


@pytest.mark.parametrize(("topic", "environment"), [
    ("org.fedoraproject.prod.bodhi.update.comment", "prod"),
    ("org.fedoraproject.stg.bodhi.update.comment", "stg"),
    ("org.centos.stage.ci.pipeline.complete", "stg"),
    ("io.pagure.dev.pagure.issue.new", "dev"),
    ("org.fedoraproject.prod.#", "prod"),
    ("bodhi.update.comment", None),
    ("#", None),
])
def test_a_topic_names_its_environment(topic, environment):
    assert environment_of(topic) == environment
    assert belongs_to(topic, "stg") == (environment in (None, "stg"))


def test_a_stg_queue_is_bound_to_every_stg_topic_and_named_apart_from_prods():
    """Assert staging's queue has a name of its own, so a staging watcher on production's
    broker never takes production's messages, and is bound to each spelling of stg."""
    source = AmqpSource(URL, environment="stg", queue_suffix="shard0of2")
    assert list(source.topology.queues) == ["hubsgen-stg-shard0of2"]
    (binding,) = source.topology.bindings
    assert binding["routing_keys"] == ["*.*.stg.#", "*.*.stage.#", "*.*.staging.#"]
    assert AmqpSource(URL).topology.bindings[0]["routing_keys"] == routing_keys("prod")
    assert (queue_name(), queue_name(environment="dev")) == ("hubsgen", "hubsgen-dev")


def test_a_topic_option_of_another_environment_is_refused():
    with pytest.raises(ConfigError) as refused:
        AmqpSource(URL, topics=["org.fedoraproject.stg.#", "org.fedoraproject.prod.bodhi.#"],
                   environment="stg")
    assert str(refused.value) == ("--topic binds org.fedoraproject.prod.bodhi.#, a topic of the "
                                  "prod environment, but [bus] environment is stg")


def test_a_fedora_messaging_binding_of_another_environment_is_refused(tmp_path: Path):
    config = tmp_path / "fedora-messaging.toml"
    config.write_text(f'amqp_url = "{URL}"\n[queues.mine]\ndurable = true\nauto_delete = false\n'
                      'exclusive = false\narguments = {}\n[[bindings]]\nqueue = "mine"\n'
                      'exchange = "amq.topic"\nrouting_keys = ["org.fedoraproject.dev.#"]\n')
    with pytest.raises(ConfigError) as refused:
        AmqpSource(config_path=config, environment="prod")
    assert str(refused.value) == (f"fedora-messaging configuration {config} binds "
                                  "org.fedoraproject.dev.#, a topic of the dev environment, but "
                                  "[bus] environment is prod")


def test_watch_refuses_a_topic_of_another_environment_in_one_line(monkeypatch):
    monkeypatch.setenv("HUBSGEN_BUS_ENVIRONMENT", "stg")
    result = CliRunner().invoke(cli, ["watch", "--source", URL, "--declare-only",
                                      "--topic", "org.fedoraproject.prod.#"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: --topic binds org.fedoraproject.prod.#, a topic of the prod "
                             "environment, but [bus] environment is stg\n")
