"""`azkv-emulator serve`: wire the services together and run until SIGTERM/SIGINT."""

import json
import os
import signal
import threading

from .admin import AdminService
from .appservice import AppServiceService
from .arc import ArcService
from .arm import ArmService
from .assertions import AssertionVerifier
from .imds import ImdsService
from .certs import ensure_certificates, issue_server_cert
from .entra import EntraService
from .faults import FaultInjector
from .foundry import FoundryService
from .foundrykeys import FoundryKeys
from .hostile import Hostile, WRONG_CERT_NAME
from .keyvault import KeyVaultService
from .limits import VaultLimits
from .oidc import OidcIssuers
from .request_log import RequestLog
from .router import Router
from .server import IDLE_TIMEOUT, EmulatorServer, log, make_tls_context
from .state import State
from .tokens import TokenService
from .util import atomic_write

READY_FILE = "emulator.json"
MAX_WORKERS = 8


def _fork_workers(server, n: int) -> list:
    """--workers: n more processes serving the listening socket of server, forked before any
    thread starts. The emulator is Python: one process runs one request at a time (the GIL),
    so on its own it, not the client, caps a benchmark's throughput. Each child has its own
    copy of the state as loaded, its own request log, faults and limits; nothing it does is
    saved or seen by the others, which is why the admin API of a --workers emulator only
    reads (admin.py) and the mode is for measuring a fixed set of keys only. A child ends
    when its parent does, or at SIGTERM."""
    parent, children = os.getpid(), []
    if n:
        # Every process wakes for a new connection and only one gets it: the others' accept
        # must fail (and serve_forever go on) rather than block, which would also block
        # shutdown for good.
        server.socket.setblocking(False)
    for _ in range(n):
        pid = os.fork()
        if pid:
            children.append(pid)
            continue
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        server.serve_in_thread()
        while not stop.wait(0.5) and os.getppid() == parent:
            pass
        server.shutdown()
        os._exit(0)
    return children


def serve(state_dir, host="127.0.0.1", port=0, localhost_vault=None,
          authority_host="https://login.microsoftonline.com", token_lifetime=3600,
          default_tenant=None, arm_rbac=False, arc_token_dir=None,
          issued_token_log=None, kv_limits=False, workers=1, idle_timeout=None) -> int:
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"--workers must be 1 to {MAX_WORKERS}")
    os.makedirs(state_dir, exist_ok=True)
    state_dir = os.path.abspath(state_dir)
    ready_path = os.path.join(state_dir, READY_FILE)
    # A file left by a previous run would make scripts talk to a dead port.
    if os.path.exists(ready_path):
        os.unlink(ready_path)

    paths = ensure_certificates(state_dir)
    state = State(state_dir)
    state.load(default_tenant)

    tokens = TokenService(state, entra_lifetime=token_lifetime, issued_log=issued_token_log)
    faults = FaultInjector()

    def wrong_cert_context():
        # Test-only (hostile.py): the test CA's certificate for a name no client asks for.
        cert_file, key_file = issue_server_cert(state_dir, paths, WRONG_CERT_NAME)
        return make_tls_context(cert_file, key_file, None)

    hostile = Hostile(wrong_cert_context)
    requests = RequestLog()
    limits = VaultLimits(kv_limits)
    foundry_keys = FoundryKeys(state)
    arm = ArmService(state, tokens, foundry_keys, arm_rbac=arm_rbac)
    oidc = OidcIssuers(state)
    appservice = AppServiceService(state, tokens)
    arc = ArcService(state, tokens, arc_token_dir or os.path.join(state_dir, "azcmagent-tokens"))
    router = Router(
        state,
        keyvault=KeyVaultService(state, tokens, authority_host),
        entra=EntraService(state, tokens, AssertionVerifier(state, oidc, paths["ca_file"])),
        admin=AdminService(state, tokens, faults, arm, oidc=oidc, appservice=appservice, arc=arc,
                           ca_file=paths["ca_file"], hostile=hostile,
                           request_log=requests, limits=limits, read_only=workers > 1),
        faults=faults,
        localhost_vault=localhost_vault,
        arm=arm,
        imds=ImdsService(state, tokens),
        foundry=FoundryService(state, tokens, foundry_keys),
        appservice=appservice,
        arc=arc,
        oidc=oidc,
        hostile=hostile,
        limits=limits,
    )
    server = EmulatorServer(host, port, make_tls_context(paths["cert_file"], paths["key_file"], router), router,
                          requests, idle_timeout=idle_timeout or IDLE_TIMEOUT)
    actual_port = server.server_address[1]

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    children = _fork_workers(server, workers - 1)
    server.serve_in_thread()
    url_host = f"[{host}]" if ":" in host else host
    info = {"port": actual_port, "pid": os.getpid(), "ca_file": paths["ca_file"],
            "url": f"https://{url_host}:{actual_port}",
            "default_tenant": state.doc["default_tenant"], "localhost_vault": localhost_vault}
    # Written last, atomically: its appearance means "ready to serve".
    atomic_write(ready_path, (json.dumps(info, indent=2) + "\n").encode(), 0o644)
    log(f"listening on {info['url']} (state {state_dir}, default tenant {info['default_tenant']}"
        + (f", {workers} worker processes, admin API read-only)" if workers > 1 else ")"))

    while not stop.wait(0.5):
        pass
    log("stopping")
    for pid in children:
        os.kill(pid, signal.SIGTERM)
    for pid in children:
        os.waitpid(pid, 0)
    server.shutdown()
    server.server_close()
    with state.lock:
        state.save()
    try:
        os.unlink(ready_path)
    except OSError:
        pass
    return 0
