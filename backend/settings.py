"""Runtime settings, read from GUANJIA_* environment variables (and .env)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret"}
MIN_ADMIN_TOKEN_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUANJIA_", env_file=".env", extra="ignore")

    environment: str = "development"  # development | production
    database_url: str = "sqlite:///./var/guanjia.db"
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str = "change-me"
    secret_key: str = "change-me"  # signs web chat ids and invite codes
    default_community: str = "demo"
    demo_mode: bool = False
    timezone: str = "Asia/Shanghai"

    nlu: str = "builtin"
    nlu_cache_dir: Path = Path("./var/nlu-cache")
    nlu_timeout_seconds: float = 0.5

    # Ticket rules
    emergency_respond_minutes: int = 15
    emergency_resolve_minutes: int = 24 * 60
    escalation_step_minutes: int = 60
    emergency_escalation_step_minutes: int = 15
    remind_before_minutes: int = 10
    auto_close_resolved_days: int = 3
    sweep_interval_seconds: float = 30.0
    arrears_reminder_interval_days: int = Field(30, ge=1, le=365)  # at most one 催缴 per household this often
    hotline: str = "400-800-1234"
    invite_code_ttl_hours: int = 72
    dialogue_idle_minutes: int = 30
    max_message_chars: int = 2000  # longer messages are cut before parsing and storing
    max_tickets_per_hour: int = Field(10, ge=1)  # per resident, from chat; staff are never limited
    max_messages_per_minute: int = Field(30, ge=1)  # per chat; more are answered with a request to slow down
    emergency_repeat_minutes: int = Field(10, ge=0)  # a second emergency this soon is asked about before paging
    chat_threads: int = Field(default=2, ge=1, le=64)  # threads per process handling web chat messages

    # Channels (used by bot/)
    telegram_token: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_token: str = ""
    wechat_encoding_aes_key: str = ""
    wechat_api_url: str = "https://api.weixin.qq.com"
    wecom_corp_id: str = ""
    wecom_secret: str = ""
    wecom_agent_id: str = ""
    wecom_token: str = ""
    wecom_encoding_aes_key: str = ""
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    # Customer contact (客户联系): the residents' WeCom customer groups (客户群). Its own secret, or empty to
    # use GUANJIA_WECOM_SECRET (the app must then be among the customer-contact API's 可调用应用).
    wecom_contact_secret: str = ""
    wecom_group_send_wait_hours: float = Field(default=72.0, gt=0)  # then an unconfirmed group send is stopped
    wecom_group_send_poll_seconds: float = Field(default=300.0, gt=0)  # how often a waiting one is checked
    wechat_templates: dict[str, Any] = {}  # notification kind -> template id or {"id", "fields", "url"}
    wechat_reply_deadline_seconds: float = 4.0  # answer callbacks by then (WeChat gives up at 5 s)
    wechat_callback_workers: int = 16  # threads running callbacks (conversation, media download)
    wechat_signature_max_age_seconds: int = 300  # refuse callbacks with older (replayed) timestamps

    media_dir: Path = Path("./var/media")
    disclosure_day: int = Field(5, ge=0, le=28)  # publish last month's shared-income disclosure from this day; 0: never

    # Office console (/console)
    public_url: str = ""  # how staff reach this server, for links in chat and the CLI; "" = http://HOST:PORT
    console_session_idle_minutes: int = Field(default=480, ge=1)  # signed out after this long without a request
    console_lockout_failures: int = Field(default=5, ge=1)  # wrong passwords in a row before a lock-out
    console_lockout_minutes: int = Field(default=15, ge=1)
    console_poll_seconds: float = Field(default=5.0, gt=0)  # how often the tickets board refreshes itself
    console_max_upload_mb: float = Field(default=10.0, gt=0)  # larger import files are refused

    # Web chat and background work (used by bot/)
    run_worker_in_app: bool = True  # the web process also sweeps deadlines and delivers the outbox
    webchat_poll_seconds: float = 1.5  # how often the /chat page asks for pushed messages
    delivery_lease_seconds: float = Field(default=60.0, gt=0)  # a delivery claim lives this long unless renewed
    delivery_batch: int = Field(default=10, ge=1, le=500)  # notifications leased per delivery round

    # Shared rate limits (backend/ratelimit.py): in this process, or in Redis when a URL is set
    redis_url: str = ""  # e.g. redis://127.0.0.1:6379/0
    telegram_messages_per_second: float = Field(default=30.0, gt=0)  # all chats together
    telegram_burst: int = Field(default=1, ge=1)  # overall messages allowed back to back
    telegram_messages_per_second_per_chat: float = Field(default=1.0, gt=0)
    telegram_messages_per_minute_per_group: float = Field(default=20.0, gt=0)
    wechat_messages_per_second: float = Field(default=50.0, gt=0)  # API calls per second, official account
    wecom_messages_per_minute_per_member: float = Field(default=30.0, gt=0)

    # The broadcast engine (bot/delivery/broadcast.py)
    broadcast_batch: int = Field(default=200, ge=1, le=5000)  # delivery rows claimed per round
    broadcast_lanes: int = Field(default=3, ge=1, le=32)  # rounds in flight at once per process
    broadcast_concurrency: int = Field(default=64, ge=1, le=1000)  # sends in flight at once per process
    broadcast_connections: int = Field(default=16, ge=1, le=200)  # kept-alive connections to the Bot API
    # Sends per process whose outcome is not committed yet: at most this many duplicates if the process is killed.
    # 1 (the default) keeps a kill to at most one duplicate; more sends faster per process (docs/broadcast.md).
    broadcast_unrecorded_max: int = Field(default=1, ge=1, le=1000)
    broadcast_fanout_batch: int = Field(default=500, ge=1, le=10000)  # residents per fan-out transaction
    broadcast_lease_seconds: float = Field(default=30.0, gt=0)  # a claim lives this long unless renewed
    broadcast_max_attempts: int = Field(default=8, ge=1)  # then 'failed' with the platform's error
    broadcast_poll_seconds: float = Field(default=0.5, gt=0, le=60)  # idle: how often to look for due work

    @field_validator("wechat_templates", mode="before")
    @classmethod
    def _templates_json(cls, value: Any) -> Any:
        return json.loads(value or "{}") if isinstance(value, str) else value

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.environment == "production":
            for name in ("admin_token", "secret_key"):
                if getattr(self, name) in PLACEHOLDER_SECRETS:
                    raise ValueError(f"GUANJIA_{name.upper()} must be set in production")
            if self.demo_mode:
                raise ValueError("GUANJIA_DEMO_MODE must be false in production (anyone could chat as anyone)")
            if len(self.admin_token) < MIN_ADMIN_TOKEN_LENGTH:
                raise ValueError(f"GUANJIA_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters in "
                                 "production")
            if self.wechat_token and not self.wechat_encoding_aes_key:
                # Plain-mode signatures do not cover the body: a captured one could carry another message.
                raise ValueError("GUANJIA_WECHAT_ENCODING_AES_KEY must be set in production (WeChat safe mode)")
        return self

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
