"""Process settings from the environment and ``.env``: where the database and config are.

Secrets (later: puppet tokens) live here and in ``.env``, never in config.yaml.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.encryption import DataKeys


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QUNBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    db_url: str = Field(default="sqlite:///qunbot.db", description="SQLAlchemy database URL")
    config: str = Field(default="config.yaml", description="path of the rules file")
    adapter: Literal["console", "wechaty"] = Field(
        default="console", description="what `qunbot run` connects to"
    )
    puppet_endpoint: str | None = Field(
        default=None,
        validation_alias="WECHATY_PUPPET_SERVICE_ENDPOINT",
        description="host:port of the Wechaty puppet service",
    )
    puppet_token: str | None = Field(
        default=None,
        validation_alias="WECHATY_PUPPET_SERVICE_TOKEN",
        description="the puppet service token (a secret: never logged)",
    )
    private_chats: bool = Field(default=False, description="also answer private chats")
    scan_images: bool = Field(
        default=True, description="read QR codes in pictures members post (moderation)"
    )
    status_file: str = Field(
        default="qunbot-status.json", description="where `qunbot run` writes its connection state"
    )
    reconnect_max: float = Field(
        default=60.0, gt=0, description="longest wait between reconnect attempts, in seconds"
    )
    send_timeout: float = Field(
        default=20.0, gt=0, description="seconds a send may wait for the service's answer"
    )
    liveness: float = Field(
        default=30.0,
        gt=0,
        description="seconds the service may take to answer a probe before the link is stalled",
    )
    data_key: SecretStr | None = Field(
        default=None,
        description="the key member data is sealed with at rest (`qunbot keys new`; a secret)",
    )
    data_keys_old: SecretStr | None = Field(
        default=None,
        description="earlier keys, comma-separated: still read until `qunbot keys rotate`",
    )
    log_level: str = Field(default="INFO", description="loguru level for `qunbot run`/`chat`")

    def data_keys(self) -> DataKeys | None:
        """The keys from QUNBOT_DATA_KEY and QUNBOT_DATA_KEYS_OLD; raises DataKeyError on a
        malformed one."""
        old = self.data_keys_old.get_secret_value() if self.data_keys_old else None
        return DataKeys.from_texts(self.data_key.get_secret_value() if self.data_key else None, old)
