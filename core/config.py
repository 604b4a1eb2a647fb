"""Settings: the only place that reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def async_database_url(url: str) -> str:
    """Map the URLs people write (`sqlite:///x.db`, `postgresql://…`) to SQLAlchemy async drivers."""
    if url.startswith("sqlite://") and "+aiosqlite" not in url.split("://", 1)[0]:
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Slack
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""  # xapp-…: when set, Socket Mode
    slack_api_url: str = "https://slack.com/api/"
    slack_rate_scale: float = 1.0  # multiplies the client's pacing of Slack's rate tiers (see slack_app/pacing.py)
    # The app's OAuth client: the focus-time "Connect" (each person's own token) and, without
    # SLACK_BOT_TOKEN, "Add to Slack" installs into many workspaces (`slack_installs`). Not named
    # SLACK_CLIENT_ID/SECRET: with those in the environment Bolt switches modes by itself.
    slack_client_id: str = Field("", validation_alias=AliasChoices("unmeet_slack_client_id"))
    slack_client_secret: str = Field("", validation_alias=AliasChoices("unmeet_slack_client_secret"))

    # Microsoft Teams
    microsoft_app_id: str = ""
    microsoft_app_password: str = ""
    microsoft_app_tenant_id: str = ""
    microsoft_app_type: str = "MultiTenant"
    # Where botbuilder fetches the Bot Framework's token signing keys; empty = Microsoft's public cloud.
    # Tests point it at a loopback key server, so checking tokens is proven without the internet.
    microsoft_openid_metadata_url: str = ""
    # Where the bot gets its own tokens for calling Teams, in place of https://login.microsoftonline.com/;
    # empty = Microsoft's public cloud. Tests point it at a loopback token server.
    microsoft_login_url: str = ""
    teams_allowed_tenants: str = ""  # comma-separated tenant ids; empty = any
    teams_local_mode: bool = False  # anonymous bot (Agents Playground) on a non-loopback host
    teams_admins: str = ""  # comma-separated Entra object ids (or 29: ids) who may change tenant-wide settings

    # LLM (any OpenAI-compatible endpoint)
    openai_base_url: str = ""
    openai_api_key: str = ""
    unmeet_llm_model: str = ""
    unmeet_llm_timeout_seconds: float = 60.0  # one HTTP call
    unmeet_llm_max_retries: int = 1  # the client's own retries on 429/5xx/connection errors, per call
    unmeet_llm_max_output_tokens: int = 1500  # max_tokens of every call
    unmeet_llm_context_tokens: int = 8000  # prompt tokens (≈ chars/4) one call may carry; map-reduce above
    unmeet_llm_summary_tokens: int = 30000  # prompt tokens one round summary may spend in all; answers condense
    unmeet_llm_summary_seconds: float = 180.0  # a whole summary (all calls); then the offline one
    unmeet_llm_daily_token_budget: int = 200000  # per workspace per UTC day, unless its admin sets another

    # Storage and server
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'unmeet.db'}")
    host: str = "127.0.0.1"
    port: int = 3978
    unmeet_dev_mode: bool = False  # allow Slack without a signing secret (never in production)
    unmeet_default_locale: str = "en"
    # The programme template `/programme new` starts from: programmes/<name>/v<N>.toml, or a .toml path.
    unmeet_programme_template: str = "trajectory/v1"
    unmeet_secret_key: str = ""  # encrypts stored tokens (people's, bots'); derived from signing secret when empty
    # Days closed rounds, focus sessions, meeting checks, finished jobs and uninstalled workspaces are
    # kept; 0 keeps them forever. The daily sweep (and `unmeet data sweep`) deletes what is older.
    unmeet_retention_days: int = Field(365, ge=0)

    # Operating it
    unmeet_metrics: bool = True  # GET /metrics (Prometheus text format) on the server's port
    unmeet_log_format: str = Field("text", pattern="^(text|json)$")  # json: one JSON object per line
    # `unmeet worker`'s own port for /healthz, /readyz and /metrics (on HOST); 0: none
    unmeet_worker_port: int = Field(0, ge=0, le=65535)

    # Jobs
    job_lease_seconds: float = 30.0
    job_max_attempts: int = 8
    job_poll_seconds: float = 1.0
    job_concurrency: int = 16

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def async_database_url(self) -> str:
        return async_database_url(self.database_url)

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def slack_installs(self) -> bool:
        """Many workspaces, each installing the app through OAuth, instead of one SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id and self.slack_client_secret and not self.slack_bot_token)

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_base_url or self.openai_api_key) and bool(self.unmeet_llm_model)

    @property
    def allowed_tenants(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.teams_allowed_tenants.split(",") if t.strip())
