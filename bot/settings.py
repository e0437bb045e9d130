"""Process settings from the environment and ``.env``: where the database and config are.

Secrets (later: puppet tokens) live here and in ``.env``, never in config.yaml.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QUNBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    db_url: str = Field(default="sqlite:///qunbot.db", description="SQLAlchemy database URL")
    config: str = Field(default="config.yaml", description="path of the rules file")
    log_level: str = Field(default="INFO", description="loguru level for `qunbot run`/`chat`")
