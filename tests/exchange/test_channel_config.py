"""The transports' configuration comes from Settings alone, under the PBSHARE_* names of docs/channels.md §6."""

from __future__ import annotations

import pytest

from pbshare.config import Settings
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import ChannelConfig

CHANNEL_ENV = ("PBSHARE_CHANNEL_PREFIX", "PBSHARE_SOCKET_HOST", "PBSHARE_SOCKET_PORT", "PBSHARE_SOCKET_TLS_CERT",
               "PBSHARE_SOCKET_TLS_KEY", "PBSHARE_SOCKET_TLS_CA", "PBSHARE_CHANNEL_MAX_BYTES")


@pytest.fixture
def clean_env(monkeypatch):
    for name in CHANNEL_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env, tmp_path):
    config = ChannelConfig.from_settings(Settings(data_dir=tmp_path))
    assert (config.prefix, config.socket_host, config.socket_port) == ("pbshare", "0.0.0.0", 7070)
    assert config.max_bytes == env_mod.MAX_BYTES == 1024 * 1024
    assert (config.socket_tls_cert, config.socket_tls_key, config.socket_tls_ca) == (None, None, None)


def test_environment_names(clean_env, tmp_path):
    values = {"PBSHARE_CHANNEL_PREFIX": "pbx", "PBSHARE_SOCKET_HOST": "127.0.0.1", "PBSHARE_SOCKET_PORT": "7171",
              "PBSHARE_SOCKET_TLS_CERT": "/k/cert.pem", "PBSHARE_SOCKET_TLS_KEY": "/k/key.pem",
              "PBSHARE_SOCKET_TLS_CA": "/k/ca.pem", "PBSHARE_CHANNEL_MAX_BYTES": "4096"}
    for name, value in values.items():
        clean_env.setenv(name, value)
    config = ChannelConfig.from_settings(Settings(data_dir=tmp_path))
    assert (config.prefix, config.socket_host, config.socket_port, config.max_bytes) == ("pbx", "127.0.0.1", 7171,
                                                                                          4096)
    assert (config.socket_tls_cert, config.socket_tls_key, config.socket_tls_ca) == ("/k/cert.pem", "/k/key.pem",
                                                                                      "/k/ca.pem")


def test_from_settings_reads_only_the_settings(clean_env, tmp_path):
    settings = Settings(data_dir=tmp_path, channel_prefix="made", socket_port=7272)
    clean_env.setenv("PBSHARE_CHANNEL_PREFIX", "later")
    clean_env.setenv("PBSHARE_SOCKET_PORT", "7373")
    config = ChannelConfig.from_settings(settings, socket_host="127.0.0.1")
    assert (config.prefix, config.socket_port, config.socket_host) == ("made", 7272, "127.0.0.1")


def test_a_config_made_by_hand_agrees_with_the_settings(clean_env, tmp_path):
    by_hand, settings = ChannelConfig(data_dir=tmp_path), Settings(data_dir=tmp_path)
    assert (by_hand.amqp_url, by_hand.mqtt_url, by_hand.nats_url) == (settings.amqp_url, settings.mqtt_url,
                                                                      settings.nats_url)
    assert (by_hand.prefix, by_hand.socket_port, by_hand.max_bytes) == (settings.channel_prefix, settings.socket_port,
                                                                         settings.channel_max_bytes)
