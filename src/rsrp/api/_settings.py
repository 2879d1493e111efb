"""Service settings: ONE TOML file plus ``RSRP_*`` environment overrides.

Nested keys use ``__`` in the environment (``RSRP_SERVER__PORT=9443``). In
production mode the settings refuse development defaults: the default key
passphrase, the development CA, a missing client CA, the software key store
unless explicitly allowed, and an unsigned policy bundle (no ``policy.keyring``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from rsrp.errors import ConfigError

__all__ = ["DEV_PASSPHRASE", "Settings", "load_settings"]

#: The passphrase ``rsrp run`` uses for ./var keys; refused in production.
DEV_PASSPHRASE = "rsrp-development-only"  # noqa: S105 - a documented, refused-in-production default


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=0, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    #: ``required``: every connection presents a client certificate; ``optional``
    #: lets OIDC-only callers connect without one.
    client_cert: Literal["required", "optional"] = "required"
    http: Literal["httptools", "h11"] = "httptools"


class DatabaseSettings(_Section):
    url: str = "sqlite:var/rsrp.db"


class PolicySettings(_Section):
    bundle: Path = Path("examples/bank-registry/policy.rsrp")
    #: Exported public keys (``rsrp keys export``) the bundle's signature must verify
    #: against. When set, the service refuses to start on an unsigned or altered bundle.
    keyring: Path | None = None
    #: The detached signature (``rsrp policy sign``); default ``<bundle>.sig``.
    signature: Path | None = None

    def signature_path(self) -> Path:
        return self.signature or self.bundle.with_name(self.bundle.name + ".sig")


class ContextSettings(_Section):
    #: Imported (upserted) into the database at start-up when set.
    directory: Path | None = None


class KeySettings(_Section):
    store: str = "file:var/keys"
    passphrase: SecretStr = SecretStr(DEV_PASSPHRASE)
    allow_software_store_in_production: bool = False
    signing_mode: Literal["batch", "per-decision"] = "batch"


class LedgerSettings(_Section):
    origin: str = ""
    checkpoint_every: int = Field(default=256, ge=1)
    checkpoint_interval_ms: int = Field(default=1000, ge=10)


class OidcSettings(_Section):
    issuer: str
    audience: str
    jwks: str
    algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    principal_claim: str = "preferred_username"
    jwks_min_refresh_s: float = Field(default=30.0, ge=0)
    #: Re-read the key set once it is this old (a withdrawn key stops verifying).
    jwks_max_age_s: float = Field(default=600.0, gt=0)
    #: CA bundle for an https ``jwks`` URL (default: the system trust store).
    jwks_ca: Path | None = None
    #: Clock skew allowed on exp/nbf/iat.
    leeway_s: int = Field(default=30, ge=0, le=300)
    #: Required JOSE header ``typ`` (``at+jwt`` for RFC 9068 access tokens); unset: any.
    typ: str | None = None
    #: Keycloak client id whose ``resource_access.<id>.roles`` are mapped too.
    client_roles: str | None = None
    role_map: dict[str, str] = Field(
        default_factory=lambda: {
            "rsrp-agent": "agent",
            "rsrp-supervisor": "supervisor",
            "rsrp-auditor": "auditor",
            "rsrp-admin": "admin",
        }
    )


class AuthSettings(_Section):
    #: Explicit roles for certificate principals (e.g. ``{"ops-admin" = ["admin"]}``);
    #: other principals get roles from their agent level.
    principals: dict[str, list[Literal["agent", "supervisor", "auditor", "admin"]]] = Field(
        default_factory=dict
    )
    oidc: OidcSettings | None = None


class LimitSettings(_Section):
    max_body_bytes: int = Field(default=64 * 1024, ge=256, le=16 * 1024 * 1024)
    rate_per_second: float = Field(default=200.0, gt=0)
    burst: int = Field(default=400, ge=1)
    #: Also enforce ``burst + rate_per_second * shared_window_s`` per identity per window
    #: over every replica sharing the database (rsrp.api._ratelimit).
    shared: bool = True
    shared_window_s: float = Field(default=10.0, ge=1, le=3600)
    shared_sync_ms: int = Field(default=100, ge=10, le=10_000)


class ApprovalSettings(_Section):
    timeout_s: int = Field(default=1800, ge=1)
    #: How often each replica concludes due approvals as logged APPROVAL_EXPIRED decisions.
    sweep_interval_s: float = Field(default=5.0, gt=0, le=3600)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RSRP_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    mode: Literal["development", "production"] = "development"
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    policy: PolicySettings = PolicySettings()
    context: ContextSettings = ContextSettings()
    keys: KeySettings = KeySettings()
    ledger: LedgerSettings = LedgerSettings()
    auth: AuthSettings = AuthSettings()
    limits: LimitSettings = LimitSettings()
    approvals: ApprovalSettings = ApprovalSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment overrides the file (passed as init values).
        return (env_settings, init_settings)

    def check_production(self) -> None:
        """Raise ConfigError for any development default left in a production config."""
        if self.mode != "production":
            return
        problems: list[str] = []
        if self.keys.passphrase.get_secret_value() == DEV_PASSPHRASE:
            problems.append("keys.passphrase is the development default")
        if self.keys.store.startswith("file:") and not self.keys.allow_software_store_in_production:
            problems.append(
                "keys.store is the software store (set allow_software_store_in_production)"
            )
        if self.server.client_ca is None or self.server.tls_cert is None:
            problems.append("server.tls_cert and server.client_ca are required")
        elif _is_dev_ca(self.server.client_ca):
            problems.append("server.client_ca is the development CA")
        if self.policy.keyring is None:
            problems.append(
                "policy.keyring is required: production serves only signed bundles "
                "(rsrp policy sign)"
            )
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))


def _is_dev_ca(path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return "rsrp development" in cert.subject.rfc4514_string()


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read ``path`` (TOML), apply ``RSRP_*`` environment overrides, check production rules."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read config {path}: {e}") from e
    data.update(overrides)
    try:
        settings = Settings(**data)
    except ValidationError as e:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise ConfigError(f"invalid config: {details}") from e
    settings.check_production()
    return settings
