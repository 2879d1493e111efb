"""The rsrp decision service: FastAPI app, mTLS and OIDC authentication, metrics.

``create_app(settings)`` builds the app; serve it with uvicorn and the mTLS
protocol class so the verified client certificate reaches the app:

    >>> from rsrp.api import MtlsHttpToolsProtocol, Settings
    >>> Settings().server.port
    8443
    >>> MtlsHttpToolsProtocol.__name__
    'MtlsHttpToolsProtocol'
"""

from rsrp.api._app import create_app
from rsrp.api._auth import Identity, Role
from rsrp.api._batch import decide_many
from rsrp.api._pipeline import DecisionRequest, DecisionResult, Pipeline, StageUnavailableError
from rsrp.api._settings import DEV_PASSPHRASE, Settings, load_settings
from rsrp.api._stages import CheckpointView, LedgerStage, PolicyStage, ProofStage, Stages
from rsrp.api._tls import (
    MtlsH11Protocol,
    MtlsHttpToolsProtocol,
    PeerCertificate,
    peer_from_der,
    server_ssl_context,
)

__all__ = [
    "DEV_PASSPHRASE",
    "CheckpointView",
    "DecisionRequest",
    "DecisionResult",
    "Identity",
    "LedgerStage",
    "MtlsH11Protocol",
    "MtlsHttpToolsProtocol",
    "PeerCertificate",
    "Pipeline",
    "PolicyStage",
    "ProofStage",
    "Role",
    "Settings",
    "StageUnavailableError",
    "Stages",
    "create_app",
    "decide_many",
    "load_settings",
    "peer_from_der",
    "server_ssl_context",
]
